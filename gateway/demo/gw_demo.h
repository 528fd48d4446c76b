/*
 * gateway/demo/gw_demo.h — the demo region's data and its live HL7 v2 feed.
 *
 * gw_demo_generate() writes a whole synthetic region from one seed: three
 * members with different sources (HL7 v2 messages of a general hospital,
 * CDA documents and Synthea-layout CSV files of a second hospital, DICOM
 * Part 10 files of an imaging centre), FHIR Consents, the demo users and a
 * manifest that tests and the demo script read.  The people come from the
 * MPI's labelled synthetic population (gateway/mpi/gw_mpi_synth.h), so the
 * names, resident identity numbers and registration errors are the ones
 * the patient index is measured on.  Same seed, same bytes — except the
 * demo users' passwords, which are random and kept apart (secrets.json).
 *
 * gw_demo_feed_run() replays the general hospital's messages over MLLP,
 * one at a time, waiting for each acknowledgement, and can go on sending
 * new lab results (ORU^R01) for its patients until it is told to stop.
 * See docs/design/demo-data.md for the layout and the choices made.
 */
#ifndef GATEWAY_DEMO_GW_DEMO_H
#define GATEWAY_DEMO_GW_DEMO_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fhir/base/compat.h"
#include "fhir/base/err.h"

#define GW_DEMO_DEFAULT_SEED   20261128u
#define GW_DEMO_DEFAULT_AS_OF  20261031 /* the last day the data covers (YYYYMMDD) */
#define GW_DEMO_DEFAULT_PEOPLE 370u     /* drawn from the synthetic population */
#define GW_DEMO_YEARS          6        /* the data spans this many years up to as_of */

struct gw_demo_config {
    uint64_t seed;
    int as_of;       /* YYYYMMDD */
    size_t n_people; /* persons asked of the synthetic population (>= 320) */
};

struct gw_demo_config gw_demo_config_default(void);

/* What a generation produced (also in manifest.json). */
struct gw_demo_summary {
    size_t patients;      /* regional persons */
    size_t shared;        /* persons seen at two or three members */
    size_t at_three;      /* persons seen at all three */
    size_t records[3];    /* patient records per member: hosp-a, hosp-b, img-c */
    size_t hl7_messages;  /* hosp-a/hl7/NNNNN.hl7 */
    size_t cda_documents; /* hosp-b/cda/NAME.xml */
    size_t csv_rows;      /* data rows over all hosp-b/csv/NAME.csv */
    size_t dicom_studies;
    size_t dicom_files;          /* img-c/dicom/.../NAME.dcm */
    size_t consents;             /* consents/NAME.json */
    char shared_resident_id[19]; /* the well-known shared patient */
    char shared_name[64];
};

/*
 * Generate the region into `out_dir` (created if absent; refused when it
 * holds anything but an earlier generation, which is then replaced).
 * BASE_E_INVALID for a bad configuration, BASE_E_IO naming the path that
 * could not be written, BASE_E_NOMEM.
 */
BASE_MUST_CHECK int gw_demo_generate(const struct gw_demo_config *cfg, const char *out_dir,
                                     struct gw_demo_summary *sum, struct base_err *err);

/* ---------------------------------------------------------------- feed -- */

struct gw_demo_feed_opts {
    const char *host; /* MLLP listener */
    const char *port;
    const char *from_dir;    /* DIR/hosp-a/hl7 */
    const char *manifest;    /* manifest.json (for --live); NULL: from_dir/../../manifest.json */
    bool live;               /* after the replay, keep sending new results */
    unsigned interval_ms;    /* between live messages */
    unsigned ack_timeout_ms; /* per acknowledgement */
    unsigned retry_ms;       /* how long to keep reconnecting to a listener that is down */
    size_t skip;             /* files to skip (already sent) */
    size_t max_live;         /* stop after this many live messages (0 = until signalled) */
    const char *tls_ca;      /* TLS when set: the listener's CA */
    const char *tls_cert;    /* client certificate (mutual TLS), may be NULL */
    const char *tls_key;
    const char *tls_name;        /* name to verify (default: host) */
    volatile sig_atomic_t *stop; /* set by a signal handler: finish cleanly */
    bool quiet;                  /* no progress lines */
};

struct gw_demo_feed_stats {
    size_t sent; /* messages acknowledged AA/CA */
    size_t live; /* of which generated live */
    size_t reconnects;
};

/*
 * Send every .hl7 file of from_dir in name order (one message each) over
 * MLLP, waiting for each ACK; then, with `live`, new ORU^R01 results every
 * interval until *stop.  Stops with BASE_E_UPSTREAM on AE/AR (err->msg says
 * which message and what the ACK said) or when no ACK comes in time;
 * reconnects (and resends the unacknowledged message) while the listener
 * is down, up to retry_ms.  BASE_E_IO / BASE_E_INVALID for files.
 */
BASE_MUST_CHECK int gw_demo_feed_run(const struct gw_demo_feed_opts *o,
                                     struct gw_demo_feed_stats *st, struct base_err *err);

/* ----------------------------------------------------------------- ACK -- */

struct gw_demo_ack {
    char code[3];         /* MSA-1: AA AE AR (original) or CA CE CR (enhanced) */
    char control_id[200]; /* MSA-2: the acknowledged message's MSH-10 */
    char text[256];       /* ERR-8, else MSA-3 (the listener's PHI-free reason), printable */
};

/*
 * Read an acknowledgement message (HL7 v2 ER7, one message, segments ended
 * by CR or LF).  Pure.  BASE_E_PARSE (not MSH-led, no MSA, bad MSA-1),
 * BASE_E_LIMIT (over GW_DEMO_LIMIT_ACK bytes).  err->where says where.
 */
BASE_MUST_CHECK int gw_demo_ack_parse(const char *msg, size_t len, struct gw_demo_ack *out,
                                      struct base_err *err);

/*
 * MLLP framing (HL7 v2.5.1 appendix C.4: 0x0B message 0x1C 0x0D).  Find
 * the first complete frame in buf[0..len): *start and *mlen give the message
 * and *used how many bytes it consumed (garbage before 0x0B included).
 * Returns 1 when a frame was found, 0 when more bytes are needed,
 * BASE_E_PARSE for a 0x1C not followed by 0x0D, BASE_E_LIMIT for a frame
 * longer than `max`.
 */
int gw_demo_mllp_find(const char *buf, size_t len, size_t max, size_t *start, size_t *mlen,
                      size_t *used, struct base_err *err);

#endif /* GATEWAY_DEMO_GW_DEMO_H */
