/*
 * MLLP ingest end to end (test/bench/bench_ingest.sh runs it against a real
 * bin/fhirgate-adapter on a durable PostgreSQL):
 *
 *   bench_ingest send PORT CONNS WINDOW MESSAGES RUN
 *
 * CONNS connections, each pipelining up to WINDOW frames without waiting
 * for their ACKs, send MESSAGES generated HL7 v2.5.1 messages in all — a
 * realistic mix per patient: ADT^A01 (Patient, Encounter, allergy,
 * diagnosis), two ORU^R01 lab reports (DiagnosticReport + 5 Observations)
 * and an ADT^A08 update.  Patient numbers and control ids include RUN so
 * that every run writes new data.  Prints "msgs_per_s X", "acks_aa N",
 * "acks_other N", "wall_s X" and the client's "cpu_s X".
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_MSG 4096

struct conn {
    int port;
    size_t first; /* message numbers [first, first + n) */
    size_t n;
    size_t window;
    unsigned run;
    size_t aa;
    size_t other;
    int failed;
    pthread_t th;
};

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Message k: patient k / 4, kind k % 4. */
static size_t
make_msg(char *out, size_t cap, size_t k, unsigned run)
{
    size_t p = k / 4;
    int n;

    switch (k % 4) {
    case 0:
    case 3:
        n = snprintf(out, cap,
                     "\x0bMSH|^~\\&|HIS|HOSP-A|FHIRGATE|HOSP-A|20261128101500||ADT^%s^ADT_A01|"
                     "A%u-%zu|P|2.5.1|||AL|NE||UNICODE UTF-8\r"
                     "EVN|%s|20261128101500\r"
                     "PID|1||R%uP%zu^^^HOSP-A^MR||Zhang^San%zu||19800101|M|||No %zu Main "
                     "St^^Shenyang^LN^110000^CHN||^PRN^PH^^^^1380000%04zu\r"
                     "PV1|1|I|W1^101^1^HOSP-A||||1234^Li^Si|||MED||||1|||1234^Li^Si|IP|"
                     "R%uV%zu^^^HOSP-A^VN|||||||||||||||||||||||||20261128100000\r"
                     "AL1|1|DA|PCN^Penicillin^L|MO|Rash\r"
                     "DG1|1||J18.9^Pneumonia^I10||20261128|A\r\x1c\r",
                     k % 4 == 0 ? "A01" : "A08", run, k, k % 4 == 0 ? "A01" : "A08", run, p, p, p,
                     p % 10000, run, p);
        break;
    default:
        n = snprintf(out, cap,
                     "\x0bMSH|^~\\&|LIS|HOSP-A|FHIRGATE|HOSP-A|20261128111500||ORU^R01^ORU_R01|"
                     "L%u-%zu|P|2.5.1\r"
                     "PID|1||R%uP%zu^^^HOSP-A^MR||Zhang^San%zu||19800101|M\r"
                     "OBR|1|R%uPO%zu|R%uFO%zu|24331-1^Lipid panel^LN|||20261128110000|||||||||||||"
                     "||20261128111000|||F\r"
                     "OBX|1|NM|2093-3^Cholesterol^LN||%zu|mg/dL|<200|N|||F|||20261128110000\r"
                     "OBX|2|NM|2571-8^Triglyceride^LN||%zu|mg/dL|<150|N|||F|||20261128110000\r"
                     "OBX|3|NM|2085-9^HDL^LN||%zu|mg/dL|>40|N|||F|||20261128110000\r"
                     "OBX|4|NM|13457-7^LDL calc^LN||%zu|mg/dL|<130|N|||F|||20261128110000\r"
                     "OBX|5|ST|8251-1^Comment^LN||fasting sample||||||F|||20261128110000\r"
                     "\x1c\r",
                     run, k, run, p, p, run, k, run, k, 150 + k % 80, 90 + k % 70, 35 + k % 30,
                     80 + k % 60);
        break;
    }
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static int
dial(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;

    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/* Count ACK frames in buf[0..len); keeps the unfinished tail. */
static size_t
read_acks(struct conn *c, char *buf, size_t *len)
{
    size_t done = 0;
    size_t start = 0;

    for (size_t i = 0; i + 1 < *len; i++) {
        if (buf[i] != 0x1c || buf[i + 1] != 0x0d)
            continue;
        /* committed: AA, or CA for a sender in enhanced mode (MSH-15 AL) */
        if (memmem(buf + start, i - start, "MSA|AA|", 7) != NULL ||
            memmem(buf + start, i - start, "MSA|CA|", 7) != NULL)
            c->aa++;
        else
            c->other++;
        done++;
        start = i + 2;
    }
    memmove(buf, buf + start, *len - start);
    *len -= start;
    return done;
}

static void *
run_conn(void *arg)
{
    struct conn *c = arg;
    int fd = dial(c->port);
    size_t sent = 0;
    size_t acked = 0;
    char in[1 << 16];
    size_t in_len = 0;
    char msg[MAX_MSG];

    if (fd < 0) {
        c->failed = 1;
        return NULL;
    }
    while (acked < c->n) {
        struct pollfd p = {fd, POLLIN, 0};

        while (sent < c->n && sent - acked < c->window) {
            size_t len = make_msg(msg, sizeof(msg), c->first + sent, c->run);

            if (len == 0 || write(fd, msg, len) != (ssize_t)len) {
                c->failed = 1;
                goto out;
            }
            sent++;
        }
        if (poll(&p, 1, 30000) <= 0) {
            c->failed = 1;
            break;
        }
        ssize_t got = read(fd, in + in_len, sizeof(in) - in_len);
        if (got <= 0) {
            c->failed = 1;
            break;
        }
        in_len += (size_t)got;
        acked += read_acks(c, in, &in_len);
    }
out:
    close(fd);
    return NULL;
}

static size_t
num(const char *s)
{
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);

    return end != s && *end == '\0' ? (size_t)v : 0;
}

static int
send_cmd(int argc, char **argv)
{
    int port = (int)num(argv[2]);
    size_t conns = num(argv[3]);
    size_t window = num(argv[4]);
    size_t total = num(argv[5]);
    unsigned run = (unsigned)num(argv[6]);
    struct conn *c = calloc(conns, sizeof(*c));
    size_t aa = 0;
    size_t other = 0;
    int failed = 0;
    struct rusage ru;
    double t0;
    double t1;

    (void)argc;
    if (c == NULL || conns == 0)
        return 2;
    t0 = now_s();
    for (size_t i = 0; i < conns; i++) {
        /* Each connection owns whole patients (4 messages each), so one
         * patient's messages keep their order. */
        size_t per = (total / 4 / conns) * 4;

        c[i] = (struct conn){
            port, i * per, i + 1 == conns ? total - i * per : per, window, run, 0, 0, 0, 0};
        pthread_create(&c[i].th, NULL, run_conn, &c[i]);
    }
    for (size_t i = 0; i < conns; i++) {
        pthread_join(c[i].th, NULL);
        aa += c[i].aa;
        other += c[i].other;
        failed |= c[i].failed;
    }
    t1 = now_s();
    getrusage(RUSAGE_SELF, &ru);
    printf("msgs_per_s %.1f\nacks_aa %zu\nacks_other %zu\nwall_s %.3f\ncpu_s %.3f\n",
           (double)(aa + other) / (t1 - t0), aa, other, t1 - t0,
           (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
               (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
    free(c);
    return failed ? 1 : 0;
}

int
main(int argc, char **argv)
{
    if (argc == 7 && strcmp(argv[1], "send") == 0)
        return send_cmd(argc, argv);
    fprintf(stderr, "usage: bench_ingest send PORT CONNS WINDOW MESSAGES RUN\n");
    return 2;
}
