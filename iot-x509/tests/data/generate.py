#!/usr/bin/env python3
"""Fixture generator for iot-x509's OpenSSL agreement tests.

Independent of our Rust code: certificates are made with Python `cryptography` (tested with
48.0), and the expected results are produced by the OpenSSL command line (tested with 3.0):
`openssl x509 -fingerprint -sha1/-sha256` and
`openssl verify -auth_level 2 -purpose sslclient [-partial_chain] -attime AT`.

Validity dates are fixed, so the meaning of every fixture is deterministic; keys (and therefore
bytes, thumbprints and signatures) differ on each run. Re-run and commit all outputs together:

    python3 iot-x509/tests/data/generate.py

Writes iot-x509/tests/data/openssl/*.pem|*.der and manifest.json there, and the seed corpora
fuzz/corpus/x509_* (keeping `regression-*` seeds). `generate.py --non-ca-anchor` writes only
the non-CA anchor case (see `write_non_ca_anchor`).
"""

import datetime as dt
import json
import os
import subprocess
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "openssl")
UTC = dt.timezone.utc
AT = int(dt.datetime(2026, 6, 1, tzinfo=UTC).timestamp())  # verification time for every case

CA_VALID = (dt.datetime(2024, 1, 1, tzinfo=UTC), dt.datetime(2044, 1, 1, tzinfo=UTC))
LEAF_VALID = (dt.datetime(2025, 1, 1, tzinfo=UTC), dt.datetime(2035, 1, 1, tzinfo=UTC))
EXPIRED = (dt.datetime(2020, 1, 1, tzinfo=UTC), dt.datetime(2021, 1, 1, tzinfo=UTC))
FUTURE = (dt.datetime(2030, 1, 1, tzinfo=UTC), dt.datetime(2040, 1, 1, tzinfo=UTC))

_serial = [0x1000]


def ec_key():
    return ec.generate_private_key(ec.SECP256R1())


def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def name(*cns, org=None):
    attrs = []
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    attrs += [x509.NameAttribute(NameOID.COMMON_NAME, cn) for cn in cns]
    return x509.Name(attrs)


def make(subject, key, issuer_name, issuer_key, validity, ca, eku=("client",), hash_alg=None,
         ku=True, path_length=None, cert_sign=True):
    """certGen.sh profiles (reference 7.4): CA = v3_ca, leaf = usr_cert.

    `path_length` sets a CA's pathLenConstraint; `cert_sign=False` leaves keyCertSign out of a
    CA's keyUsage (both for the anchor-constraint cases)."""
    _serial[0] += 1
    b = (x509.CertificateBuilder()
         .subject_name(subject)
         .issuer_name(issuer_name)
         .public_key(key.public_key())
         .serial_number(_serial[0])
         .not_valid_before(validity[0])
         .not_valid_after(validity[1])
         .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                        critical=False))
    if ku:
        if ca:
            b = b.add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                              key_encipherment=False, data_encipherment=False,
                                              key_agreement=False, key_cert_sign=cert_sign,
                                              crl_sign=True, encipher_only=False,
                                              decipher_only=False), critical=True)
        else:
            b = b.add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True,
                                              key_encipherment=True, data_encipherment=False,
                                              key_agreement=False, key_cert_sign=False,
                                              crl_sign=False, encipher_only=False,
                                              decipher_only=False), critical=True)
    if eku:
        usages = {"client": ExtendedKeyUsageOID.CLIENT_AUTH,
                  "server": ExtendedKeyUsageOID.SERVER_AUTH,
                  "email": ExtendedKeyUsageOID.EMAIL_PROTECTION}
        b = b.add_extension(x509.ExtendedKeyUsage([usages[u] for u in eku]), critical=False)
    return b.sign(issuer_key, hash_alg or hashes.SHA256())


def write_cert(fname, cert):
    with open(os.path.join(OUT, fname), "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    return fname


def write_bundle(fname, certs):
    with open(os.path.join(OUT, fname), "wb") as f:
        for c in certs:
            f.write(c.public_bytes(serialization.Encoding.PEM))
    return fname


def sha1_signed(issuer, issuer_key, fname, cn):
    """cryptography 48 refuses SHA-1 signatures, so `openssl ca -md sha1` signs this one."""
    with tempfile.TemporaryDirectory() as d:
        key = rsa_key()
        csr = (x509.CertificateSigningRequestBuilder().subject_name(name(cn))
               .sign(key, hashes.SHA256()))
        open(os.path.join(d, "csr.pem"), "wb").write(csr.public_bytes(serialization.Encoding.PEM))
        open(os.path.join(d, "ca.pem"), "wb").write(issuer.public_bytes(serialization.Encoding.PEM))
        open(os.path.join(d, "ca.key"), "wb").write(issuer_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        open(os.path.join(d, "index.txt"), "w").close()
        open(os.path.join(d, "serial"), "w").write("5A01\n")
        open(os.path.join(d, "ca.cnf"), "w").write(f"""
[ca]
default_ca = test
[test]
dir = {d}
database = {d}/index.txt
new_certs_dir = {d}
serial = {d}/serial
policy = anything
unique_subject = no
[anything]
commonName = supplied
[usr_cert]
basicConstraints = critical,CA:FALSE
keyUsage = critical,nonRepudiation,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth,emailProtection
""")
        rc, out = openssl("ca", "-batch", "-config", os.path.join(d, "ca.cnf"), "-cert",
                          os.path.join(d, "ca.pem"), "-keyfile", os.path.join(d, "ca.key"),
                          "-md", "sha1", "-extensions", "usr_cert", "-startdate",
                          "20250101000000Z", "-enddate", "20350101000000Z", "-notext",
                          "-in", os.path.join(d, "csr.pem"), "-out", os.path.join(OUT, fname))
        assert rc == 0, out


def openssl(*args):
    p = subprocess.run(["openssl", *args], capture_output=True, text=True)
    return p.returncode, (p.stdout + p.stderr).strip()


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))

    root_key, int_key, rsa_root_key, other_key = ec_key(), ec_key(), rsa_key(), ec_key()
    root = make(name("iot-x509 test root EC", org="iot-x509 fixtures"), root_key,
                name("iot-x509 test root EC", org="iot-x509 fixtures"), root_key, CA_VALID, True,
                eku=None)
    inter = make(name("iot-x509 test intermediate EC"), int_key, root.subject, root_key, CA_VALID,
                 True, eku=None)
    rsa_root = make(name("iot-x509 test root RSA"), rsa_root_key, name("iot-x509 test root RSA"),
                    rsa_root_key, CA_VALID, True, eku=None)
    other_root = make(name("iot-x509 untrusted root"), other_key, name("iot-x509 untrusted root"),
                      other_key, CA_VALID, True, eku=None)
    expired_inter = make(name("iot-x509 expired intermediate"), int_key, root.subject, root_key,
                         EXPIRED, True, eku=None)
    fake_issuer_key = ec_key()
    not_ca = make(name("iot-x509 not a CA"), fake_issuer_key, root.subject, root_key, LEAF_VALID,
                  False, eku=("client",))

    files = {
        "root-ec": write_cert("root-ec.pem", root),
        "intermediate-ec": write_cert("intermediate-ec.pem", inter),
        "root-rsa": write_cert("root-rsa.pem", rsa_root),
        "untrusted-root": write_cert("untrusted-root.pem", other_root),
        "expired-intermediate": write_cert("expired-intermediate.pem", expired_inter),
        "not-ca-issuer": write_cert("not-ca-issuer.pem", not_ca),
    }

    def leaf(fname, cn, issuer, issuer_key, validity=LEAF_VALID, key=None, **kw):
        key = key or ec_key()
        cert = make(name(*cn) if isinstance(cn, tuple) else name(cn), key, issuer.subject,
                    issuer_key, validity, False, **kw)
        write_cert(fname, cert)
        return cert, key

    cases = []

    def case(case_name, leaf_file, chain, trust, expect, partial=False, device_id=None):
        cases.append(dict(name=case_name, leaf=leaf_file, chain=chain, trust=trust,
                          partial_chain=partial, expect=expect, device_id=device_id))

    ec_leaf, ec_leaf_key = leaf("device-ec.pem", "device-ec", root, root_key)
    case("ec-direct-from-root", "device-ec.pem", [], ["root-ec.pem"], "Ok", device_id="device-ec")
    rsa_leaf_key = rsa_key()
    leaf("device-rsa.pem", "device-rsa", rsa_root, rsa_root_key, key=rsa_leaf_key)
    case("rsa-direct-from-root", "device-rsa.pem", [], ["root-rsa.pem"], "Ok",
         device_id="device-rsa")
    via, _ = leaf("device-via-intermediate.pem", "device-via-int", inter, int_key)
    write_bundle("device-via-intermediate.bundle.pem", [via, inter])
    case("via-intermediate", "device-via-intermediate.pem", ["intermediate-ec.pem"],
         ["root-ec.pem"], "Ok", device_id="device-via-int")
    case("intermediate-as-anchor", "device-via-intermediate.pem", [], ["intermediate-ec.pem"],
         "Ok", partial=True)
    case("intermediate-as-anchor-with-chain", "device-via-intermediate.pem",
         ["intermediate-ec.pem"], ["intermediate-ec.pem"], "Ok", partial=True)
    case("missing-intermediate", "device-via-intermediate.pem", [], ["root-ec.pem"],
         "UnknownIssuer")
    leaf("device-expired.pem", "device-expired", root, root_key, validity=EXPIRED)
    case("expired-leaf", "device-expired.pem", [], ["root-ec.pem"], "Expired")
    leaf("device-not-yet-valid.pem", "device-future", root, root_key, validity=FUTURE)
    case("not-yet-valid-leaf", "device-not-yet-valid.pem", [], ["root-ec.pem"], "NotYetValid")
    leaf("device-via-expired-intermediate.pem", "device-via-expired-int", expired_inter, int_key)
    case("expired-intermediate", "device-via-expired-intermediate.pem",
         ["expired-intermediate.pem"], ["root-ec.pem"], "Expired")
    leaf("device-server-auth-only.pem", "device-server", root, root_key, eku=("server",))
    case("server-auth-only-eku", "device-server-auth-only.pem", [], ["root-ec.pem"],
         "NotClientAuth")
    leaf("device-no-eku.pem", "device-no-eku", root, root_key, eku=None)
    case("no-eku", "device-no-eku.pem", [], ["root-ec.pem"], "Ok")
    leaf("device-client-and-email-eku.pem", "device-certgen", root, root_key,
         eku=("client", "email"))
    case("certgen-profile-eku", "device-client-and-email-eku.pem", [], ["root-ec.pem"], "Ok")
    leaf("device-untrusted-root.pem", "device-untrusted", other_root, other_key)
    case("untrusted-root", "device-untrusted-root.pem", [], ["root-ec.pem"], "UnknownIssuer")
    leaf("device-issuer-not-ca.pem", "device-bad-issuer", not_ca, fake_issuer_key)
    case("issuer-not-ca", "device-issuer-not-ca.pem", ["not-ca-issuer.pem"], ["root-ec.pem"],
         "IssuerNotCa")
    # Forged issuer: issuer name copied from the trusted root, signed by another key.
    forger_key = ec_key()
    forged = make(name("device-forged"), ec_key(), root.subject, forger_key, LEAF_VALID, False)
    write_cert("device-forged-issuer.pem", forged)
    case("forged-issuer-name", "device-forged-issuer.pem", [], ["root-ec.pem"], "BadSignature")
    self_key = ec_key()
    self_signed = make(name("device-self-signed"), self_key, name("device-self-signed"), self_key,
                       LEAF_VALID, False)
    write_cert("device-self-signed.pem", self_signed)
    case("self-signed-device", "device-self-signed.pem", [], ["root-ec.pem"], "UnknownIssuer")
    sha1_signed(rsa_root, rsa_root_key, "device-sha1-signed.pem", "device-sha1")
    case("sha1-signed-leaf", "device-sha1-signed.pem", [], ["root-rsa.pem"],
         "UnsupportedAlgorithm")
    leaf("device-two-cns.pem", ("device-a", "device-b"), root, root_key)
    case("two-common-names", "device-two-cns.pem", [], ["root-ec.pem"], "Ok")
    # CN as BMPString (UTF-16BE), as some Windows tools write it.
    bmp = make(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "device-bmp",
                                             _type=x509.name._ASN1Type.BMPString)]),
               ec_key(), root.subject, root_key, LEAF_VALID, False)
    write_cert("device-bmpstring-cn.pem", bmp)
    case("bmpstring-common-name", "device-bmpstring-cn.pem", [], ["root-ec.pem"], "Ok",
         device_id="device-bmp")
    leaf("module.pem", "device-1/module-a", root, root_key)
    case("module-leaf", "module.pem", [], ["root-ec.pem"], "Ok")
    case("ec-leaf-wrong-trust-rsa-root", "device-ec.pem", [], ["root-rsa.pem"], "UnknownIssuer")
    # The trust anchor itself has expired (webpki ignores anchor dates; we and OpenSSL do not).
    old_root_key = ec_key()
    old_root = make(name("iot-x509 expired root"), old_root_key, name("iot-x509 expired root"),
                    old_root_key, EXPIRED, True, eku=None)
    files["expired-root"] = write_cert("expired-root.pem", old_root)
    leaf("device-under-expired-root.pem", "device-old-root", old_root, old_root_key)
    case("expired-root", "device-under-expired-root.pem", [], ["expired-root.pem"], "Expired")
    case("two-roots-trusted", "device-rsa.pem", [], ["root-ec.pem", "root-rsa.pem"], "Ok")

    # The registered CA's own constraints, when it is the trust anchor (issue 12 item 3):
    # rustls-webpki treats an anchor as a bare name and key; OpenSSL (and so iot-x509) also
    # applies its pathLenConstraint, extended key usage and keyUsage.
    pl0_key = ec_key()
    pl0_root = make(name("iot-x509 root pathlen 0"), pl0_key, name("iot-x509 root pathlen 0"),
                    pl0_key, CA_VALID, True, eku=None, path_length=0)
    files["root-pathlen0"] = write_cert("root-pathlen0.pem", pl0_root)
    pl0_int_key = ec_key()
    pl0_int = make(name("iot-x509 intermediate under pathlen-0 root"), pl0_int_key,
                   pl0_root.subject, pl0_key, CA_VALID, True, eku=None)
    files["intermediate-under-pathlen0"] = write_cert("intermediate-under-pathlen0.pem", pl0_int)
    leaf("device-under-pathlen0-root.pem", "device-pl0", pl0_root, pl0_key)
    case("anchor-pathlen-0-direct", "device-under-pathlen0-root.pem", [], ["root-pathlen0.pem"],
         "Ok", device_id="device-pl0")
    leaf("device-via-pathlen0-root-intermediate.pem", "device-pl0-int", pl0_int, pl0_int_key)
    case("anchor-pathlen-0-above-intermediate", "device-via-pathlen0-root-intermediate.pem",
         ["intermediate-under-pathlen0.pem"], ["root-pathlen0.pem"], "PathTooLong")
    # A registered intermediate with pathLenConstraint 0 as the anchor, above another
    # intermediate; and the same chain anchored at the root (webpki checks non-anchors itself).
    ipl0_key, sub_key = ec_key(), ec_key()
    ipl0 = make(name("iot-x509 intermediate pathlen 0"), ipl0_key, root.subject, root_key,
                CA_VALID, True, eku=None, path_length=0)
    files["intermediate-pathlen0"] = write_cert("intermediate-pathlen0.pem", ipl0)
    sub = make(name("iot-x509 sub-intermediate"), sub_key, ipl0.subject, ipl0_key, CA_VALID,
               True, eku=None)
    files["sub-intermediate"] = write_cert("sub-intermediate.pem", sub)
    leaf("device-via-sub-intermediate.pem", "device-sub-int", sub, sub_key)
    case("intermediate-anchor-pathlen-0-above-intermediate", "device-via-sub-intermediate.pem",
         ["sub-intermediate.pem"], ["intermediate-pathlen0.pem"], "PathTooLong", partial=True)
    case("pathlen-0-intermediate-below-root", "device-via-sub-intermediate.pem",
         ["sub-intermediate.pem", "intermediate-pathlen0.pem"], ["root-ec.pem"], "PathTooLong")
    server_key = ec_key()
    server_root = make(name("iot-x509 root EKU serverAuth"), server_key,
                       name("iot-x509 root EKU serverAuth"), server_key, CA_VALID, True,
                       eku=("server",))
    files["root-eku-server-auth"] = write_cert("root-eku-server-auth.pem", server_root)
    leaf("device-under-server-eku-root.pem", "device-srv-root", server_root, server_key)
    case("anchor-eku-server-auth-only", "device-under-server-eku-root.pem", [],
         ["root-eku-server-auth.pem"], "NotClientAuth")
    client_key = ec_key()
    client_root = make(name("iot-x509 root EKU clientAuth"), client_key,
                       name("iot-x509 root EKU clientAuth"), client_key, CA_VALID, True,
                       eku=("client",))
    files["root-eku-client-auth"] = write_cert("root-eku-client-auth.pem", client_root)
    leaf("device-under-client-eku-root.pem", "device-cli-root", client_root, client_key)
    case("anchor-eku-client-auth", "device-under-client-eku-root.pem", [],
         ["root-eku-client-auth.pem"], "Ok")
    nosign_key = ec_key()
    nosign_root = make(name("iot-x509 root without keyCertSign"), nosign_key,
                       name("iot-x509 root without keyCertSign"), nosign_key, CA_VALID, True,
                       eku=None, cert_sign=False)
    files["root-no-keycertsign"] = write_cert("root-no-keycertsign.pem", nosign_root)
    leaf("device-under-no-keycertsign-root.pem", "device-nosign-root", nosign_root, nosign_key)
    case("anchor-key-usage-without-keycertsign", "device-under-no-keycertsign-root.pem", [],
         ["root-no-keycertsign.pem"], "CaKeyUsage")

    # CA rollover (issue 12 item 6): the renewed CA certificate has the expired one's subject
    # and key, and both stay registered. Either registration order must admit the device.
    roll_key = ec_key()
    roll_name = name("iot-x509 rollover root", org="iot-x509 fixtures")
    roll_old = make(roll_name, roll_key, roll_name, roll_key, EXPIRED, True, eku=None)
    roll_new = make(roll_name, roll_key, roll_name, roll_key, CA_VALID, True, eku=None)
    files["rollover-root-expired"] = write_cert("rollover-root-expired.pem", roll_old)
    files["rollover-root-renewed"] = write_cert("rollover-root-renewed.pem", roll_new)
    leaf("device-under-rollover-root.pem", "device-rollover", roll_new, roll_key)
    case("ca-rollover-expired-registered-first", "device-under-rollover-root.pem", [],
         ["rollover-root-expired.pem", "rollover-root-renewed.pem"], "Ok",
         device_id="device-rollover")
    case("ca-rollover-renewed-registered-first", "device-under-rollover-root.pem", [],
         ["rollover-root-renewed.pem", "rollover-root-expired.pem"], "Ok",
         device_id="device-rollover")
    case("ca-rollover-only-expired-registered", "device-under-rollover-root.pem", [],
         ["rollover-root-expired.pem"], "Expired")

    # Non-certificate inputs (for parse tests).
    with open(os.path.join(OUT, "device-ec.der"), "wb") as f:
        f.write(ec_leaf.public_bytes(serialization.Encoding.DER))
    with open(os.path.join(OUT, "device-ec.key.pem"), "wb") as f:
        f.write(ec_leaf_key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    with open(os.path.join(OUT, "device-ec.key.der"), "wb") as f:
        f.write(ec_leaf_key.private_bytes(serialization.Encoding.DER,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    csr = (x509.CertificateSigningRequestBuilder().subject_name(name("device-ec"))
           .sign(ec_leaf_key, hashes.SHA256()))
    with open(os.path.join(OUT, "device-ec.csr.pem"), "wb") as f:
        f.write(csr.public_bytes(serialization.Encoding.PEM))

    # Proof of possession (reference 7.4): verification certificates for root-ec.
    code = "0A1B2C3D4E5F60718293A4B5C6D7E8F9A0B1C2D3E4F5A6B7"
    pops = []

    def pop(fname, cn, signer_key, expect):
        cert = make(name(cn), ec_key(), root.subject, signer_key, (LEAF_VALID[0],
                    dt.datetime(2026, 7, 1, tzinfo=UTC)), False, eku=("client", "email"))
        write_cert(fname, cert)
        pops.append(dict(cert=fname, ca="root-ec.pem", code=code, expect=expect))

    pop("pop-right.pem", code, root_key, "Ok")
    pop("pop-wrong-key.pem", code, other_key, "PopBadSignature")
    pop("pop-wrong-cn.pem", "FFFF" + code[4:], root_key, "PopCodeMismatch")

    # OpenSSL's verdicts.
    for c in cases:
        with tempfile.NamedTemporaryFile("wb", suffix=".pem", delete=False) as trust:
            for t in c["trust"]:
                trust.write(open(os.path.join(OUT, t), "rb").read())
        # -auth_level 2 (112-bit security): refuses SHA-1 signatures and RSA < 2048 bits, the
        # same algorithm floor as rustls-webpki.
        args = ["verify", "-auth_level", "2", "-attime", str(AT), "-purpose", "sslclient",
                "-CAfile", trust.name]
        untrusted = None
        if c["chain"]:
            with tempfile.NamedTemporaryFile("wb", suffix=".pem", delete=False) as untrusted:
                for t in c["chain"]:
                    untrusted.write(open(os.path.join(OUT, t), "rb").read())
            args += ["-untrusted", untrusted.name]
        if c["partial_chain"]:
            args.append("-partial_chain")
        rc, out = openssl(*args, os.path.join(OUT, c["leaf"]))
        os.unlink(trust.name)
        if untrusted:
            os.unlink(untrusted.name)
        out = out.replace(trust.name, "TRUST").replace(OUT + "/", "")
        c["openssl_ok"] = rc == 0
        c["openssl_output"] = out
        c["openssl_command"] = "openssl " + " ".join(
            a if a != trust.name else "<trust>" for a in args if not (untrusted and a == untrusted.name)
        )
    for p in pops:
        rc, out = openssl("verify", "-attime", str(AT), "-partial_chain", "-CAfile",
                          os.path.join(OUT, p["ca"]), os.path.join(OUT, p["cert"]))
        _, subject = openssl("x509", "-in", os.path.join(OUT, p["cert"]), "-noout", "-subject",
                             "-nameopt", "RFC2253")
        p["openssl_signature_ok"] = rc == 0
        p["openssl_output"] = out.replace(OUT + "/", "")
        p["openssl_subject"] = subject
        p["openssl_ok"] = rc == 0 and subject == "subject=CN=" + p["code"]

    fingerprints = {}
    for f in sorted(os.listdir(OUT)):
        if f.endswith(".pem") and not f.endswith(".key.pem") and not f.endswith(".csr.pem") \
                and not f.endswith(".bundle.pem"):
            _, sha1 = openssl("x509", "-in", os.path.join(OUT, f), "-noout", "-fingerprint",
                              "-sha1")
            _, sha256 = openssl("x509", "-in", os.path.join(OUT, f), "-noout", "-fingerprint",
                                "-sha256")
            _, serial = openssl("x509", "-in", os.path.join(OUT, f), "-noout", "-serial")
            fingerprints[f] = dict(sha1=sha1, sha256=sha256, serial=serial)
    _, version = openssl("version")
    manifest = dict(
        source="generated by generate.py: certificates by Python cryptography, expected "
               "values by the OpenSSL CLI",
        openssl_version=version, at=AT, fingerprints=fingerprints, chains=cases, pop=pops)
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    write_fuzz_corpora(manifest)
    write_non_ca_anchor()
    for c in cases:
        print(f'{c["name"]:40} openssl={"ok" if c["openssl_ok"] else "REJECT"} expect={c["expect"]}')
    for p in pops:
        print(f'{p["cert"]:40} openssl={"ok" if p["openssl_ok"] else "REJECT"} expect={p["expect"]}')


def write_fuzz_corpora(manifest):
    """Seeds for iot-x509's fuzz targets (fuzz/corpus/x509_*), from the fixtures above.

    Files named `regression-*` (inputs that once crashed) are kept; the others are rewritten.
    """
    corpus = os.path.join(os.path.dirname(OUT), "..", "..", "..", "fuzz", "corpus")

    def target(name):
        d = os.path.join(corpus, name)
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):
            if not f.startswith("regression-"):
                os.remove(os.path.join(d, f))
        return d

    def put(d, fname, data):
        with open(os.path.join(d, fname), "wb") as f:
            f.write(data)

    def read(fname):
        return open(os.path.join(OUT, fname), "rb").read()

    def der(fname):
        if fname.endswith(".der"):
            return read(fname)
        return x509.load_pem_x509_certificate(read(fname)).public_bytes(
            serialization.Encoding.DER)

    d = target("x509_parse_pem")
    for f in ["device-ec.pem", "device-rsa.pem", "device-via-intermediate.bundle.pem",
              "device-ec.der", "device-ec.key.pem", "device-ec.csr.pem", "device-ec.key.der",
              "device-two-cns.pem", "root-ec.pem"]:
        put(d, f, read(f))
    put(d, "trailing-text.pem", read("device-ec.pem") + b"garbage\n")
    put(d, "crlf.pem", read("device-ec.pem").replace(b"\n", b"\r\n"))
    put(d, "unterminated.pem", b"-----BEGIN CERTIFICATE-----\nMIIB\n")
    d = target("x509_parse_certificate")
    for f in ["device-ec.pem", "device-rsa.pem", "root-ec.pem", "root-rsa.pem",
              "device-two-cns.pem", "module.pem", "device-sha1-signed.pem", "device-no-eku.pem",
              "not-ca-issuer.pem", "pop-right.pem"]:
        put(d, f.replace(".pem", ".der"), der(f))
    d = target("x509_thumbprint_from_hex")
    fp = manifest["fingerprints"]["device-ec.pem"]
    sha1, sha256 = fp["sha1"].split("=")[1], fp["sha256"].split("=")[1]
    plain = sha256.replace(":", "")
    put(d, "openssl-sha1", sha1.encode())
    put(d, "openssl-sha256", sha256.encode())
    put(d, "upper-sha256", plain.encode())
    put(d, "lower-sha1", sha1.replace(":", "").lower().encode())
    put(d, "spaced", " ".join(plain[i:i + 4] for i in range(0, 64, 4)).encode())
    put(d, "azure-doc", b"97388663832D0393C9246CAB4FBA2C8677185A25")
    put(d, "too-short", b"ABCD")
    put(d, "bad-char", ("G" + plain[1:]).encode())
    # x509_verify_chain: [u16 big-endian length][DER] records, leaf first (see its logic file).
    d = target("x509_verify_chain")

    def records(*files):
        out = b""
        for f in files:
            b = der(f)
            out += len(b).to_bytes(2, "big") + b
        return out

    # The CAs fuzz/logic/x509_verify_chain.rs registers (the constrained anchors included).
    fuzz_cas = {"root-ec.pem", "intermediate-ec.pem", "root-pathlen0.pem",
                "intermediate-pathlen0.pem", "root-eku-server-auth.pem",
                "root-eku-client-auth.pem", "root-no-keycertsign.pem"}
    for c in manifest["chains"]:
        if "root-ec.pem" in c["trust"] or set(c["trust"]) <= fuzz_cas:
            put(d, c["name"], records(c["leaf"], *c["chain"]))
    put(d, "rsa-leaf-foreign", records("device-rsa.pem"))


def write_non_ca_anchor():
    """Issue 15: a certificate that is not a CA (CA:FALSE, no keyUsage, EKU clientAuth) and a
    leaf signed by its key, plus the x509_verify_chain seed `leaf-under-not-ca-anchor` (the
    leaf alone).

    fuzz/logic/x509_verify_chain.rs offers `not-ca-anchor.pem` to `CaSet::add`, which must
    refuse it. Were it registered, the leaf would chain to it: webpki reads an anchor as a bare
    name and key, and without keyUsage the anchor's own constraints (anchor.rs) pass; so only
    a `CaSet` that takes non-CA certificates accepts the seed, and the replay's path check
    (every issuer has CA=true) catches it. Writes only these files, so it can run alone
    (`generate.py --non-ca-anchor`) without renewing the other fixtures; main() calls it last.
    """
    key, leaf_key = ec_key(), ec_key()
    subject = name("iot-x509 not a CA, offered as one")
    anchor = make(subject, key, subject, key, CA_VALID, False, ku=False)
    write_cert("not-ca-anchor.pem", anchor)
    leaf = make(name("device-under-not-ca-anchor"), leaf_key, subject, key, LEAF_VALID, False)
    write_cert("device-under-not-ca-anchor.pem", leaf)
    der = leaf.public_bytes(serialization.Encoding.DER)
    corpus = os.path.join(os.path.dirname(OUT), "..", "..", "..", "fuzz", "corpus",
                          "x509_verify_chain")
    with open(os.path.join(corpus, "leaf-under-not-ca-anchor"), "wb") as f:
        f.write(len(der).to_bytes(2, "big") + der)


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--non-ca-anchor"]:
        write_non_ca_anchor()
    else:
        main()
