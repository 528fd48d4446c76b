#!/bin/sh
# deploy/hl7-gen.sh — synthetic HL7 v2.5.1 messages for measurements and drills.
#
#   deploy/hl7-gen.sh FIRST END      patients FIRST … END-1
#
# Per patient an ADT^A01 and an ORU^R01 with four laboratory results (LOINC, UCUM units),
# segments ended by CR, messages one after another (what POST /ingest/hl7v2 of
# fhirgate-adapter takes).  Patient 0 carries the resident id deploy/region-gen.sh gives its
# shared person (110105195001010012); every patient has a valid GB 11643 resident id of its
# own (check character computed), an MRN "MRN<n>" of authority HIS, and a Chinese name.
# Used by deploy/scale-measure.sh --adapter and deploy/postgres/drill-adapter.sh.
set -eu
[ $# -eq 2 ] || { echo "usage: hl7-gen.sh FIRST END" >&2; exit 2; }
first=$1
end=$2
awk -v first="$first" -v end="$end" '
function resid(j,    d, w, s, i) {
    d = sprintf("110105%04d%02d%02d%03d", 1950 + j % 50, int(j / 50) % 12 + 1,
                int(j / 600) % 28 + 1, int(j / 16800) % 999 + 1)
    split("7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2", w, " ")
    s = 0
    for (i = 1; i <= 17; i++) s += substr(d, i, 1) * w[i]
    return d substr("10X98765432", s % 11 + 1, 1)
}
BEGIN {
    split("2345-7^Glucose^LN|5.4|mmol/L 718-7^Hemoglobin^LN|135|g/L 2160-0^Creatinine^LN|80|umol/L 6690-2^Leukocytes^LN|6.1|10*9/L", obs, " ")
    for (p = first; p < end; p++) {
        r = resid(p)
        pid = "PID|1||MRN" p "^^^HIS^MR~" r "^^^RESID^NNCHN||张^三" p "||" substr(r, 7, 8) \
            "|" ((substr(r, 17, 1) % 2) ? "M" : "F")
        printf "MSH|^~\\&|HIS|HOSPA|FHIRGATE|HOSPA|20250101080000||ADT^A01^ADT_A01|A%d|P|2.5.1|||||CHN|UNICODE UTF-8\rEVN|A01|20250101080000\r%s\rPV1|1|O\r", p, pid
        printf "MSH|^~\\&|LIS|HOSPA|FHIRGATE|HOSPA|20250101090000||ORU^R01^ORU_R01|O%d|P|2.5.1|||||CHN|UNICODE UTF-8\r%s\r", p, pid
        printf "OBR|1|ORD%d|FIL%d|24317-0^Hemogram^LN|||20250101070000|||||||||||||||20250101080000||LAB|F\r", p, p
        for (i = 1; i <= 4; i++) {
            split(obs[i], o, "|")
            printf "OBX|%d|NM|%s||%s|%s^%s^UCUM||N|||F|||20250101075000\r", i, o[1], o[2], o[3], o[3]
        }
    }
}'
