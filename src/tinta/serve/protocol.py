"""uvicorn's h11 protocol with two mends: a client must send its request line and headers within
``head_timeout`` seconds (a silent or trickling connection cannot hold the server), and the few
answers uvicorn writes itself (a malformed request, headers too large for h11) are JSON too."""

from __future__ import annotations

import json
import sys

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol


def raw_json_response(status: int, reason: str, message: str) -> bytes:
    body = json.dumps({"error": message}).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n")
    return head.encode() + body


class TintaH11Protocol(H11Protocol):
    head_timeout = 10.0  # set per server by make_server (a subclass per server)

    def _arm_head_timer(self) -> None:
        self._disarm_head_timer()
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        timer = getattr(self, "_head_timer", None)
        if timer is not None:
            timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        if self.conn.trailing_data[0]:  # part of a request came, too slowly: say so
            self.transport.write(raw_json_response(408, "Request Timeout",
                                                   f"no complete request head in {self.head_timeout:g} s"))
        self.transport.close()

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm_head_timer()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._disarm_head_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_head_timer()

    def connection_lost(self, exc) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        error = sys.exc_info()[1]  # called while h11's RemoteProtocolError is being handled
        status = getattr(error, "error_status_hint", 400)
        if status == 431:
            text, reason = "the request line or headers are too large", "Request Header Fields Too Large"
        else:
            status, reason = 400, "Bad Request"
            text = f"malformed HTTP request ({error})" if error else msg
        self.transport.write(raw_json_response(status, reason, text))
        self.transport.close()
