#!/usr/bin/python3
"""A compromised worker, for the e2e suite (`lying_worker.rs`).

A debug build of `rampart serve` starts this program in place of `rampart worker` when
`RAMPART_TEST_WORKER_PROGRAM` names it. Like a real worker it gets the client's TCP socket on
fd 0 and its end of the supervisor channel on fd 1. It speaks no RDP: the "client" is the
test, which sends one JSON line naming a scenario, and gets back every line the supervisor
answers (`reply <json>`), then `end` once the scenario ran to its last step. A worker the
supervisor kills never gets to say `end`.

The scenarios are what a worker whose parser was taken over could try: ask for a session
without a logon, guess again after a wrong proof, repeat the NTLM exchange to reset the
two-step prompt, skip the prompt, send reasons and lines no worker sends. `honest` is the
control: the same program, following the rules with the right password, gets its session.
"""

import hashlib
import hmac
import json
import os
import socket
import struct
import sys


def md4(data: bytes) -> bytes:
    """MD4 (RFC 1320); OpenSSL 3 no longer offers it to hashlib."""
    def f(x, y, z):
        return (x & y) | (~x & z)

    def g(x, y, z):
        return (x & y) | (x & z) | (y & z)

    def h(x, y, z):
        return x ^ y ^ z

    def rol(v, s):
        v &= 0xFFFFFFFF
        return ((v << s) | (v >> (32 - s))) & 0xFFFFFFFF

    msg = bytearray(data)
    bit_len = (8 * len(data)) & 0xFFFFFFFFFFFFFFFF
    msg.append(0x80)
    while len(msg) % 64 != 56:
        msg.append(0)
    msg += struct.pack("<Q", bit_len)
    a, b, c, d = 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476
    for off in range(0, len(msg), 64):
        x = list(struct.unpack("<16I", msg[off:off + 64]))
        aa, bb, cc, dd = a, b, c, d
        for i in (0, 4, 8, 12):
            a = rol(a + f(b, c, d) + x[i], 3)
            d = rol(d + f(a, b, c) + x[i + 1], 7)
            c = rol(c + f(d, a, b) + x[i + 2], 11)
            b = rol(b + f(c, d, a) + x[i + 3], 19)
        for i in (0, 1, 2, 3):
            a = rol(a + g(b, c, d) + x[i] + 0x5A827999, 3)
            d = rol(d + g(a, b, c) + x[i + 4] + 0x5A827999, 5)
            c = rol(c + g(d, a, b) + x[i + 8] + 0x5A827999, 9)
            b = rol(b + g(c, d, a) + x[i + 12] + 0x5A827999, 13)
        for i in (0, 2, 1, 3):
            a = rol(a + h(b, c, d) + x[i] + 0x6ED9EBA1, 3)
            d = rol(d + h(a, b, c) + x[i + 8] + 0x6ED9EBA1, 9)
            c = rol(c + h(d, a, b) + x[i + 4] + 0x6ED9EBA1, 11)
            b = rol(b + h(c, d, a) + x[i + 12] + 0x6ED9EBA1, 15)
        a = (a + aa) & 0xFFFFFFFF
        b = (b + bb) & 0xFFFFFFFF
        c = (c + cc) & 0xFFFFFFFF
        d = (d + dd) & 0xFFFFFFFF
    return struct.pack("<4I", a, b, c, d)


assert md4(b"abc").hex() == "a448017aaf21d8525fc10ae87aa6729d", "md4 self-test"


def ntlmv2_response(password: str, user: str, domain: str, server_challenge: bytes, timestamp: int) -> bytes:
    """NtChallengeResponse as a client computes it (MS-NLMP 3.3.2), with the server's time."""
    nt_hash = md4(password.encode("utf-16-le"))
    ntowf = hmac.new(nt_hash, (user.upper() + domain).encode("utf-16-le"), hashlib.md5).digest()
    stamp = struct.pack("<Q", timestamp)
    av_pairs = struct.pack("<HH", 7, 8) + stamp + struct.pack("<HH", 0, 0)
    blob = b"\x01\x01" + b"\x00" * 6 + stamp + os.urandom(8) + b"\x00" * 4 + av_pairs + b"\x00" * 4
    proof = hmac.new(ntowf, server_challenge + blob, hashlib.md5).digest()
    return proof + blob


class Worker:
    def __init__(self):
        self.peer = socket.socket(fileno=0)
        self.ipc = socket.socket(fileno=1)
        self.peer_in = self.peer.makefile("rb")
        self.ipc_in = self.ipc.makefile("rb")
        init = self.ipc_in.readline()
        if not init:
            sys.exit(0)
        self.init = json.loads(init)
        self.challenge = None

    def tell_peer(self, line: str):
        self.peer.sendall(line.encode() + b"\n")

    def send(self, msg):
        raw = msg if isinstance(msg, bytes) else json.dumps(msg).encode()
        self.ipc.sendall(raw + b"\n")

    def ask(self, msg):
        """One request, one answer (echoed to the test); None when the channel closed."""
        self.send(msg)
        line = self.ipc_in.readline()
        if not line:
            self.tell_peer("closed")
            return None
        reply = json.loads(line)
        self.tell_peer("reply " + json.dumps(reply))
        return reply

    def get_challenge(self):
        reply = self.ask({"t": "ntlm_challenge"})
        self.challenge = (bytes.fromhex(reply["challenge"]), reply["timestamp"])
        return reply

    def verify(self, user: str, password: str):
        challenge, timestamp = self.challenge
        response = ntlmv2_response(password, user, "", challenge, timestamp)
        return self.ask({
            "t": "ntlm_verify",
            "user": user,
            "domain": "",
            "nt_response": response.hex(),
            "encrypted_session_key": None,
            "flags": 0,
        })


def run(w: Worker, order: dict):
    user, password, wrong = order["user"], order["password"], order["password"] + "-not"
    scenario = order["scenario"]
    if scenario == "session_without_logon":
        w.ask({"t": "open_session", "width": 1024, "height": 768})
    elif scenario == "session_after_wrong_password":
        w.get_challenge()
        w.verify(user, wrong)
        w.ask({"t": "open_session", "width": 1024, "height": 768})
    elif scenario == "second_guess":
        # The first proof is wrong; the second, right, one must not even be looked at.
        w.get_challenge()
        w.verify(user, wrong)
        w.verify(user, password)
    elif scenario == "verify_without_challenge":
        w.challenge = (b"\x00" * 8, 0)
        w.verify(user, password)
    elif scenario == "second_challenge":
        w.get_challenge()
        w.get_challenge()
    elif scenario == "code_before_logon":
        w.ask({"t": "verify_code", "code": "000000"})
    elif scenario == "skip_the_prompt":
        w.get_challenge()
        w.verify(user, password)
        w.ask({"t": "open_session", "width": 1024, "height": 768})
    elif scenario == "reset_the_prompt":
        # Wrong codes, then the NTLM exchange again to win back the attempts and the time.
        w.get_challenge()
        w.verify(user, password)
        w.ask({"t": "verify_code", "code": "000000"})
        w.get_challenge()
        w.verify(user, password)
    elif scenario == "oversized_reason":
        w.send({"t": "closed", "reason": "x" * 20000, "fault": "none"})
        w.ipc_in.readline()
    elif scenario == "overlong_line":
        w.send(json.dumps({"t": "closed", "reason": "y" * 70000, "fault": "none"}).encode())
        w.ipc_in.readline()
    elif scenario == "unknown_request":
        w.send({"t": "run_as_root", "command": "id"})
        w.ipc_in.readline()
    elif scenario == "honest":
        w.get_challenge()
        w.verify(user, password)
        w.ask({"t": "open_session", "width": 1024, "height": 768})
        w.send({"t": "closed", "reason": "client disconnected", "fault": "none"})
    else:
        w.tell_peer("unknown scenario " + scenario)
        return
    w.tell_peer("end")


def main():
    w = Worker()
    order = w.peer_in.readline()
    if not order:
        return
    run(w, json.loads(order))
    # Wait for the test to hang up (or for the supervisor to end us).
    w.peer_in.read(1)


if __name__ == "__main__":
    main()
