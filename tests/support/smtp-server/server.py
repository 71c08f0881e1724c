#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A real SMTP server for notify::email's integration tests, on aiosmtpd (Debian's
python3-aiosmtpd). Listens on 127.0.0.1 on a free port and prints that port as its first
stdout line; exits when its stdin closes (the test process died) or on SIGTERM.

  --cert/--key FILE     offer STARTTLS with this certificate and require it before MAIL
                        (without them: plaintext only, no STARTTLS)
  --implicit-tls        with --cert/--key: TLS from the first byte (smtps://), no STARTTLS
  --user/--password     require AUTH (over TLS) and accept only this login
  --maildir DIR         every accepted message goes to DIR/<n>.eml (the bytes as received)
                        and DIR/<n>.json: the envelope and the message as Python's email
                        package reads it (headers decoded, each part's decoded content),
                        an independent check of the C++ builder. DIR/connections counts
                        the connections made so far.

Recipients by their local part: dead-* is answered 550 at RCPT TO, busy-* 451 the first
time each address is tried (then accepted), closing-* 421 and the connection is closed,
hold-* is kept waiting at RCPT TO (DIR/holding appears) until the file DIR/release exists,
then accepted: a stalled server, for as long as a test wants.
"""

import argparse
import asyncio
import email
import email.policy
import json
import logging
import os
import signal
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Handler:
    def __init__(self, maildir):
        self.maildir = maildir
        self.count = 0
        self.busy_seen = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split('@', 1)[0].lower()
        if local.startswith('dead-'):
            return '550 5.1.1 <%s>: mailbox unavailable' % address
        if local.startswith('busy-') and address not in self.busy_seen:
            self.busy_seen.add(address)
            return '451 4.2.0 <%s>: try again later' % address
        if local.startswith('closing-'):
            return '421 4.3.2 service shutting down'
        if local.startswith('hold-'):
            open(os.path.join(self.maildir, 'holding'), 'w').close()
            while not os.path.exists(os.path.join(self.maildir, 'release')):
                await asyncio.sleep(0.02)
        envelope.rcpt_tos.append(address)
        return '250 OK'

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.maildir, '%04d' % self.count)
        raw = envelope.original_content
        with open(base + '.eml', 'wb') as f:
            f.write(raw)
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        parts = []
        for part in (msg.iter_parts() if msg.is_multipart() else [msg]):
            parts.append({
                'content_type': part.get_content_type(),
                'charset': part.get_content_charset(),
                'transfer_encoding': part.get('Content-Transfer-Encoding', ''),
                'content': part.get_content(),
            })
        record = {
            'mail_from': envelope.mail_from,
            'rcpt_tos': envelope.rcpt_tos,
            'tls': server.transport.get_extra_info('ssl_object') is not None,
            'authenticated': bool(session.authenticated),
            'defects': [type(d).__name__ for d in msg.defects],
            'headers': {k.lower(): str(v) for k, v in msg.items()},
            'header_count': len(msg.items()),
            'content_type': msg.get_content_type(),
            'parts': parts,
        }
        tmp = base + '.json.tmp'
        with open(tmp, 'w', encoding='utf-8') as f:
            json.dump(record, f, ensure_ascii=False)
        os.replace(tmp, base + '.json')
        return '250 2.0.0 OK queued as %04d' % self.count


class CountingSMTP(SMTP):
    peers = set()  # a connection is seen again after STARTTLS: counted by its peer address
    maildir = None

    def connection_made(self, transport):
        CountingSMTP.peers.add(transport.get_extra_info('peername'))
        with open(os.path.join(CountingSMTP.maildir, 'connections'), 'w') as f:
            f.write(str(len(CountingSMTP.peers)))
        super().connection_made(transport)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--cert')
    parser.add_argument('--key')
    parser.add_argument('--user')
    parser.add_argument('--password')
    parser.add_argument('--implicit-tls', action='store_true')
    parser.add_argument('--maildir', required=True)
    args = parser.parse_args()
    # aiosmtpd 1.4 logs a warning about its own use of Session.login_data at every AUTH, and
    # a traceback for each failed TLS handshake (which some tests cause on purpose).
    logging.getLogger('mail.log').setLevel(logging.CRITICAL)
    warnings.simplefilter('ignore')  # "Requiring AUTH while not requiring TLS": implicit TLS
    os.makedirs(args.maildir, exist_ok=True)
    CountingSMTP.maildir = args.maildir

    tls_context = None
    if args.cert:
        tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_context.load_cert_chain(args.cert, args.key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == args.user
              and auth_data.password.decode() == args.password)
        # handled=False: the server answers 535 itself on failure.
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    handler = Handler(args.maildir)

    def factory():
        starttls = tls_context if not args.implicit_tls else None
        return CountingSMTP(handler, hostname='smtp.test', tls_context=starttls,
                            require_starttls=starttls is not None,
                            # aiosmtpd 1.4 sees TLS only after STARTTLS: with implicit TLS
                            # every connection is TLS anyway.
                            auth_required=bool(args.user), auth_require_tls=not args.implicit_tls,
                            authenticator=authenticator if args.user else None, timeout=30)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(loop.create_server(
        factory, '127.0.0.1', 0, ssl=tls_context if args.implicit_tls else None))
    port = server.sockets[0].getsockname()[1]
    print(port, flush=True)

    stop = loop.stop
    loop.add_signal_handler(signal.SIGTERM, stop)

    def on_stdin():
        if not os.read(sys.stdin.fileno(), 4096):
            loop.remove_reader(sys.stdin.fileno())
            stop()
    loop.add_reader(sys.stdin.fileno(), on_stdin)
    try:
        loop.run_forever()
    finally:
        server.close()


if __name__ == '__main__':
    main()
