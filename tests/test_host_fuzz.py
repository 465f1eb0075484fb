"""Property-based fuzz of the whole native host over stdio: whatever arrives, a ping then gets
its pong from the same, still running, process.

One host serves every example (starting one costs seconds), so the examples also form one long
random session: cameras tried, languages and moods set, tracks asked for, in any order.
YouTube Music is pointed at a closed port, so music fails at once instead of waiting on a
network the tests do not have.
"""

from __future__ import annotations

import json
import socket
from itertools import count

import pytest
from host_process import HostProcess
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from host.protocol import COMMANDS, message_type

SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
PONG_WAIT_S = 15.0

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=80)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


def _fields(command: type) -> list[str]:
    return [name for name in command.model_fields if name != "type"]


def _command(command: type) -> st.SearchStrategy[bytes]:
    """A command of this type with each field absent, plausible, or any JSON at all."""
    fields = {
        name: st.one_of(json_values, st.text(), st.integers(min_value=-5, max_value=70))
        for name in _fields(command)
    }
    return st.fixed_dictionaries({"type": st.just(message_type(command))}, optional=fields).map(
        lambda message: json.dumps(message).encode()
    )


def _nested(depth: int, opener: str) -> bytes:
    closer = {"[": "]", "{": "}"}[opener]
    if opener == "{":
        return ('{"a":' * depth + "1" + closer * depth).encode()
    return (opener * depth + closer * depth).encode()


bodies = st.one_of(
    st.one_of(*(_command(c) for c in COMMANDS)),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.builds(_nested, st.integers(min_value=1, max_value=5000), st.sampled_from("[{")),
    st.text(alphabet="0123456789", min_size=15, max_size=8000).map(
        lambda digits: b'{"type": "ping", "id": ' + digits.encode() + b"}"
    ),
    st.text(alphabet="0123456789", min_size=15, max_size=8000).map(
        lambda digits: b'{"type": "more_tracks", "count": 1' + digits.encode() + b"e5}"
    ),
    st.binary(max_size=300),
    st.text(max_size=300).map(lambda text: text.encode("utf-8", "surrogatepass")),
)


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # nothing listens here once this closes
    env = {"HTTPS_PROXY": f"http://127.0.0.1:{port}", "HTTP_PROXY": f"http://127.0.0.1:{port}"}
    process = HostProcess(tmp_path_factory.mktemp("fuzz") / "data", env=env)
    process.wait_for("hello")
    yield process
    assert process.process.poll() is None, "the host died during the fuzz"
    process.close_stdin_and_wait()
    assert process.process.returncode == 0
    assert "Fatal Python error" not in process.stderr
    process.kill()


ids = count(1)


def assert_serving(host: HostProcess) -> None:
    ping_id = next(ids)
    host.send({"type": "ping", "id": ping_id})
    host.wait_for("pong", timeout=PONG_WAIT_S, id=ping_id)


@SETTINGS
@given(sequence=st.lists(bodies, min_size=1, max_size=6))
def test_any_sequence_of_messages_leaves_the_host_serving(host, sequence):
    for body in sequence:
        host.send_raw(body)
    assert_serving(host)


@SETTINGS
@given(fields=st.dictionaries(st.text(max_size=20), json_values, max_size=6))
def test_unknown_and_extra_fields_with_any_unicode_leave_the_host_serving(host, fields):
    for command in COMMANDS:
        host.send({**fields, "type": message_type(command)})
    assert_serving(host)


def test_after_the_fuzz_every_output_was_a_frame_and_errors_still_come_in_order(host):
    assert host.stdout_garbage == b""
    host.send_raw(b"{}")
    assert host.wait_for("error")["code"] == "unknown_type"
