#!/bin/sh
# Regenerates the signed test zones used by tests/unit/rrsig_test.cc and crypto_test.cc.
# Needs ldnsutils (ldns-keygen, ldns-signzone, ldns-key2ds). The output is committed;
# run this only to replace the fixtures (new keys change every expected value).
#
# For each algorithm: a ZSK (flags 256) and a KSK (flags 257) for "example.", the zone
# below signed with both (KSK signs the DNSKEY RRset, ZSK the rest), NSEC chain, signature
# validity 2024-01-01 00:00:00 to 2034-01-01 00:00:00 UTC. algN.zone holds the signed zone,
# algN.ds the KSK's DS records with digest types 1, 2 and 4.
set -eu
out=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
cat > example.zone <<'ZONE'
$ORIGIN example.
$TTL 3600
@         IN SOA  ns.example. hostmaster.example. 1 7200 3600 1209600 300
@         IN NS   ns.example.
ns        IN A    192.0.2.1
www       IN A    192.0.2.10
www       IN A    192.0.2.11
www       IN A    192.0.2.12
mail      IN MX   10 Mail.Example.
mail      IN MX   20 BACKUP.example.
*.wild    IN TXT  "wildcard answer"
ZONE
for alg in RSASHA1:5 RSASHA1-NSEC3-SHA1:7 RSASHA256:8 RSASHA512:10 ECDSAP256SHA256:13 \
           ECDSAP384SHA384:14 ED25519:15 ED448:16; do
  name=${alg%%:*}
  num=${alg##*:}
  case $name in RSA*) bits="-b 2048" ;; *) bits="" ;; esac
  zsk=$(ldns-keygen -a "$name" $bits example.)
  ksk=$(ldns-keygen -k -a "$name" $bits example.)
  ldns-signzone -o example. -i 20240101000000 -e 20340101000000 -f "alg$num.zone" example.zone "$zsk" "$ksk"
  {
    ldns-key2ds -n -1 "$ksk.key"
    ldns-key2ds -n -2 "$ksk.key"
    ldns-key2ds -n -4 "$ksk.key"
  } > "alg$num.ds"
  cp "alg$num.zone" "alg$num.ds" "$out/"
done
