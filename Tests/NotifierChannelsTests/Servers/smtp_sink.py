#!/usr/bin/env python3
"""A real SMTP server on loopback for the email channel's tests (aiosmtpd).

It listens on 127.0.0.1 on a free port and writes the port's number to --port-file once it
listens (atomically, so a reader never sees half of it). Every message it accepts is written as one JSON line to --out: the envelope, whether the
session was encrypted and authenticated, the raw data, and the message as Python's email
package parses it (headers decoded, each part's content decoded, parser defects), so the
tests check the channel's output against an independent MIME reader.

Recipients choose how the server answers: tempfail@... gets 451 at RCPT, reject@... gets
550 at RCPT, hang@... never gets an answer to RCPT. Other modes are not aiosmtpd but a
scripted server: --mode silent accepts connections and never says anything, not even the
greeting; --mode helo refuses EHLO and takes mail after HELO, answering the data with an
Exim-style queue id; --mode inject answers STARTTLS with 220 and a second reply in the same
packet, in clear text, as a man in the middle injecting commands would.

It exits when its stdin closes, so it never outlives the test process that started it.
"""

import argparse
import asyncio
import datetime
import email
import email.policy
import ipaddress
import json
import os
import secrets
import ssl
import sys
import threading

USERNAME = "liaison"
PASSWORD = "s3cret-pässword"


def write_certificates(directory):
    """A private CA and a server certificate it issued for localhost and 127.0.0.1.

    Returns the paths of the CA certificate (what the client trusts) and of the server's
    certificate chain and key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Liaison test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_path = os.path.join(directory, "ca.pem")
    chain_path = os.path.join(directory, "server.pem")
    key_path = os.path.join(directory, "server.key")
    with open(ca_path, "wb") as f:
        f.write(ca.public_bytes(serialization.Encoding.PEM))
    with open(chain_path, "wb") as f:
        f.write(server.public_bytes(serialization.Encoding.PEM))
        f.write(ca.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return ca_path, chain_path, key_path


def authenticator(server, session, envelope, mechanism, auth_data):
    from aiosmtpd.smtp import AuthResult, LoginPassword

    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USERNAME.encode()
        and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)


class Recorder:
    def __init__(self, out_path):
        self.out_path = out_path

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local == "tempfail":
            return "451 4.3.0 Mailbox temporarily unavailable, try later"
        if local == "reject":
            return "550 5.1.1 Mailbox unavailable: no such user here"
        if local == "hang":
            await asyncio.sleep(3600)
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        parts = []
        defects = [repr(d) for d in message.defects]
        for part in message.walk():
            defects += [repr(d) for d in part.defects]
            if part.is_multipart():
                continue
            parts.append(
                {
                    "content_type": part.get_content_type(),
                    "charset": part.get_content_charset(),
                    "transfer_encoding": part.get("Content-Transfer-Encoding"),
                    "content": part.get_content(),
                }
            )
        queue_id = secrets.token_hex(6).upper()
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": session.ssl is not None,
            "authenticated": bool(session.authenticated),
            "queue_id": queue_id,
            "raw": raw.decode("utf-8", "replace"),
            "headers": [[name, str(value)] for name, value in message.items()],
            "content_type": message.get_content_type(),
            "parts": parts,
            "defects": defects,
        }
        with open(self.out_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        return f"250 2.0.0 Ok: queued as {queue_id}"


class Scripted(asyncio.Protocol):
    """A fixed dialogue for the modes aiosmtpd will not play."""

    def __init__(self, mode):
        self.mode = mode
        self.buffer = b""
        self.in_data = False

    def connection_made(self, transport):
        self.transport = transport
        if self.mode != "silent":
            transport.write(b"220 scripted.test ESMTP\r\n")

    def data_received(self, data):
        if self.mode == "silent":
            return
        self.buffer += data
        while True:
            if self.in_data:
                end = self.buffer.find(b"\r\n.\r\n")
                if end < 0:
                    return
                self.buffer = self.buffer[end + 5:]
                self.in_data = False
                self.transport.write(b"250 OK id=1uQx7Z-000Abc-9Q\r\n")
                continue
            end = self.buffer.find(b"\r\n")
            if end < 0:
                return
            line, self.buffer = self.buffer[:end], self.buffer[end + 2:]
            verb = line.split(b" ")[0].split(b":")[0].upper()
            self.transport.write(self.answer(verb))
            if verb == b"QUIT":
                self.transport.close()
                return

    def answer(self, verb):
        if self.mode == "inject":
            if verb == b"EHLO":
                return b"250-scripted.test\r\n250 STARTTLS\r\n"
            if verb == b"STARTTLS":
                return b"220 2.0.0 Ready to start TLS\r\n250 injected in clear text\r\n"
            return b"503 5.5.1 Not in this script\r\n"
        if verb == b"EHLO":
            return b"502 5.5.1 EHLO not implemented\r\n"
        if verb == b"DATA":
            self.in_data = True
            return b"354 End data with <CR><LF>.<CR><LF>\r\n"
        if verb == b"QUIT":
            return b"221 2.0.0 Bye\r\n"
        if verb in (b"HELO", b"MAIL", b"RCPT"):
            return b"250 OK\r\n"
        return b"500 5.5.2 Not in this script\r\n"


def exit_when_stdin_closes():
    sys.stdin.buffer.read()
    os._exit(0)


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="the JSON-lines file of received messages")
    parser.add_argument("--dir", required=True, help="where the certificates (ca.pem: the CA to trust) are written")
    parser.add_argument("--port-file", required=True, help="where the listening port is written")
    parser.add_argument("--mode", choices=["smtp", "silent", "helo", "inject"], default="smtp")
    parser.add_argument("--no-starttls", action="store_true", help="do not offer STARTTLS")
    parser.add_argument("--require-auth", action="store_true", help="refuse mail before AUTH")
    parser.add_argument("--no-plain", action="store_true", help="offer AUTH LOGIN but not PLAIN")
    args = parser.parse_args()

    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    _, chain_path, key_path = write_certificates(args.dir)
    loop = asyncio.get_running_loop()
    if args.mode != "smtp":
        server = await loop.create_server(lambda: Scripted(args.mode), host="127.0.0.1", port=0)
    else:
        from aiosmtpd.smtp import SMTP

        tls_context = None
        if not args.no_starttls:
            tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls_context.load_cert_chain(chain_path, key_path)
        handler = Recorder(args.out)

        def factory():
            return SMTP(
                handler,
                hostname="sink.test",
                ident="Liaison test sink",
                tls_context=tls_context,
                authenticator=authenticator,
                auth_required=args.require_auth,
                auth_require_tls=not args.no_starttls,
                auth_exclude_mechanism=["PLAIN"] if args.no_plain else None,
                loop=loop,
            )

        server = await loop.create_server(factory, host="127.0.0.1", port=0)
    port = server.sockets[0].getsockname()[1]
    with open(args.port_file + ".tmp", "w", encoding="ascii") as f:
        f.write(str(port))
    os.replace(args.port_file + ".tmp", args.port_file)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
