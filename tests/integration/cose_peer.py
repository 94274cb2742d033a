#!/usr/bin/python3
"""An independent COSE_Sign1 (RFC 9052) peer for tests/integration/cose.sh: Debian's python3-cbor2
and python3-cryptography, nothing of vouch's.

  cose_peer.py verify FILE.vch SIGNER.pem   checks the signature by SIGNER (or x5chain[0], which
                                            must be SIGNER), that the envelope and payload are
                                            deterministic CBOR (RFC 8949 4.2.1), prints the payload
                                            as JSON with SID keys
  cose_peer.py sign FROM.vch KEY.pem CERT.pem OUT.vch [names] [untagged] [unprotected-chain]
                                            re-encodes FROM's voucher with cbor2 (as SIDs, or with
                                            member names), signs it ES256 under KEY, writes OUT
"""
import json
import sys

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, ed448, utils

VOUCHER = 2451
NAMES = {1: "assertion", 2: "created-on", 3: "domain-cert-revocation-checks", 4: "expires-on",
         8: "pinned-domain-cert", 11: "serial-number", 60101 - VOUCHER: "vouch-enroll:enrollment"}
ENROLL = {1: "certificate", 2: "combined-key", 3: "contribution", 9: "device-key", 11: "suite"}
CONTRIB = {1: "contribution-key", 2: "contribution-proof", 3: "ct", 4: "enc"}


def load(path):
    obj = cbor2.loads(open(path, "rb").read())
    return obj.value if isinstance(obj, cbor2.CBORTag) else obj


def sig_structure(protected, payload):
    return cbor2.dumps(["Signature1", protected, b"", payload])


def check(pub, alg, message, sig):
    if alg == -7:
        n = len(sig) // 2
        der = utils.encode_dss_signature(int.from_bytes(sig[:n], "big"), int.from_bytes(sig[n:], "big"))
        pub.verify(der, message, ec.ECDSA(hashes.SHA256()))
    elif alg == -35:
        n = len(sig) // 2
        der = utils.encode_dss_signature(int.from_bytes(sig[:n], "big"), int.from_bytes(sig[n:], "big"))
        pub.verify(der, message, ec.ECDSA(hashes.SHA384()))
    elif alg == -8:
        pub.verify(sig, message)
    else:
        raise SystemExit(f"alg {alg}")


def deterministic(data):
    return cbor2.dumps(cbor2.loads(data), canonical=True) == data


def jsonable(x):
    if isinstance(x, bytes):
        return x.hex()
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, list):
        return [jsonable(v) for v in x]
    return x


def verify(path, signer_pem):
    raw = open(path, "rb").read()
    assert raw[0] == 0xD2, "not tagged COSE_Sign1"
    protected, unprotected, payload, sig = load(path)
    headers = cbor2.loads(protected)
    cert = x509.load_pem_x509_certificate(open(signer_pem, "rb").read())
    chain = headers.get(33)
    if chain is not None:
        first = chain if isinstance(chain, bytes) else chain[0]
        assert first == cert.public_bytes(serialization.Encoding.DER), "x5chain[0] is not the signer"
    check(cert.public_key(), headers[1], sig_structure(protected, payload), sig)
    assert unprotected == {}, "unprotected header not empty"
    assert deterministic(raw), "envelope is not deterministic CBOR"
    assert deterministic(payload), "payload is not deterministic CBOR"
    print(json.dumps(jsonable(cbor2.loads(payload)), sort_keys=True))


def with_names(voucher):
    inner = voucher[VOUCHER]
    out = {}
    for k, v in inner.items():
        name = NAMES[k]
        if name == "assertion":
            v = ["verified", "logged", "proximity", "agent-proximity"][v]
        if name == "vouch-enroll:enrollment":
            e = {}
            for ek, ev in v.items():
                en = ENROLL[ek]
                if en == "contribution":
                    ev = [{CONTRIB[ck]: cv for ck, cv in c.items()} for c in ev]
                if en == "suite":
                    ev = ["P256-HPKE-SHA256-AES128GCM", "X25519-HPKE-SHA256-CHACHA20POLY1305",
                          "X448-HPKE-SHA512-AES256GCM"][ev]
                e[en] = ev
            v = e
        out[name] = v
    return {"ietf-voucher:voucher": out}


def sign(src, key_pem, cert_pem, out, flags):
    voucher = cbor2.loads(load(src)[2])
    if "names" in flags:
        voucher = with_names(voucher)
    payload = cbor2.dumps(voucher)
    key = serialization.load_pem_private_key(open(key_pem, "rb").read(), None)
    der = x509.load_pem_x509_certificate(open(cert_pem, "rb").read()).public_bytes(serialization.Encoding.DER)
    prot_map = {1: -7}
    unprot = {}
    if "unprotected-chain" in flags:
        unprot[33] = der
    else:
        prot_map[33] = der
    protected = cbor2.dumps(prot_map)
    r, s = utils.decode_dss_signature(key.sign(sig_structure(protected, payload), ec.ECDSA(hashes.SHA256())))
    sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    body = [protected, unprot, payload, sig]
    data = cbor2.dumps(body if "untagged" in flags else cbor2.CBORTag(18, body))
    open(out, "wb").write(data)


if __name__ == "__main__":
    if sys.argv[1] == "verify":
        verify(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "sign":
        sign(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6:])
    else:
        raise SystemExit(__doc__)
