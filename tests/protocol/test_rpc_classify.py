"""classify(): which JSON object is an event, a reply, a request or malformed (§2.4)."""

from __future__ import annotations

import pytest

from indi_seestar.protocol import rpc


def test_event_wins_over_id_and_reply_keys() -> None:
    obj = {"Event": "AutoGoto", "Timestamp": "5137.478450199", "id": 12, "jsonrpc": "2.0", "code": 0,
           "state": "working", "route": ["View"]}
    message = rpc.classify(obj)
    assert isinstance(message, rpc.Event)
    assert message.name == "AutoGoto"
    assert message.timestamp == "5137.478450199"
    assert message.fields == {"id": 12, "jsonrpc": "2.0", "code": 0, "state": "working", "route": ["View"]}
    assert message.state == "working"
    assert message.get("route") == ["View"] and message.get("absent", 3) == 3


def test_event_without_timestamp_or_state() -> None:
    message = rpc.classify({"Event": "GSensorMove"})
    assert message == rpc.Event("GSensorMove", None)
    assert message.state is None and message.fields == {}


def test_event_non_string_timestamp_and_state_are_not_trusted() -> None:
    message = rpc.classify({"Event": "PiStatus", "Timestamp": 12.5, "state": 3})
    assert isinstance(message, rpc.Event)
    assert message.timestamp is None
    assert message.state is None and message.get("state") == 3


def test_unknown_event_names_are_kept() -> None:
    assert rpc.classify({"Event": "Simu_Stack", "x": 1}) == rpc.Event("Simu_Stack", None)


@pytest.mark.parametrize("name", [None, 5, True, ["View"], {"n": "View"}])
def test_event_name_that_is_not_a_string_is_malformed(name: object) -> None:
    """Dispatching on "None" or "['View']" would be wrong; the line is reported instead."""
    message = rpc.classify({"Event": name, "Timestamp": "1.0", "id": 3}, b"line")
    assert message == rpc.Malformed(b"line", "event name is not a string")


def test_success_reply() -> None:
    obj = {"jsonrpc": "2.0", "Timestamp": "4436.299656866", "method": "get_focuser_position",
           "result": 1517, "code": 0, "id": 100131}
    message = rpc.classify(obj, b"raw")
    assert message == rpc.Reply(100131, "get_focuser_position", 0, 1517, None, "4436.299656866")
    assert message.ok and message.raw == obj


def test_error_reply_with_code() -> None:
    obj = {"jsonrpc": "2.0", "Timestamp": "5106.251243274", "method": "set_setting",
           "error": "unexpected param", "code": 109, "id": 100003}
    message = rpc.classify(obj)
    assert isinstance(message, rpc.Reply)
    assert not message.ok
    assert (message.code, message.error, message.result) == (109, "unexpected param", None)


@pytest.mark.parametrize("obj", [
    {"id": 5, "error": "bad"},
    {"jsonrpc": "2.0", "method": "scope_goto", "error": "bad", "id": 5},
    {"method": "scope_goto", "error": "bad", "id": 5},
    {"id": 5, "error": "bad", "code": "oops"},
    {"id": 5, "error": "bad", "code": None},
])
def test_a_reply_carrying_an_error_is_never_a_success(obj: dict) -> None:
    message = rpc.classify(obj)
    assert isinstance(message, rpc.Reply), message
    assert not message.ok
    assert message.code != 0
    assert message.error == "bad"


@pytest.mark.parametrize("obj, code", [
    ({"id": 1, "result": 0}, 0),
    ({"id": 1, "code": "0"}, 0),  # a non-integer code without an error text is not a failure
    ({"id": 1, "code": True}, 0),
    ({"jsonrpc": "2.0", "result": "x"}, 0),
    ({"code": 259}, 259),
])
def test_reply_recognised_by_its_envelope(obj: dict, code: int) -> None:
    message = rpc.classify(obj)
    assert isinstance(message, rpc.Reply)
    assert message.code == code


def test_request_with_and_without_params() -> None:
    with_params = rpc.classify({"method": "scope_goto", "params": [1.5, 20.0], "id": 10001})
    assert with_params == rpc.Request(10001, "scope_goto", [1.5, 20.0])
    assert with_params.has_params
    bare = rpc.classify({"id": 420, "method": "scope_get_equ_coord"})
    assert bare == rpc.Request(420, "scope_get_equ_coord")
    assert bare.params is rpc.NO_PARAMS and not bare.has_params
    null = rpc.classify({"id": 1, "method": "x", "params": None})
    assert null.has_params and null.params is None


@pytest.mark.parametrize("raw_id, expected", [(7, 7), ("heartbeat", "heartbeat"), (True, None),
                                             (1.5, None), (None, None), ([1], None)])
def test_ids_are_ints_or_strings(raw_id: object, expected: object) -> None:
    assert rpc.classify({"method": "test_connection", "id": raw_id}).id == expected
    assert rpc.classify({"jsonrpc": "2.0", "code": 0, "id": raw_id}).id == expected


def test_reply_fields_of_the_wrong_type_are_dropped_not_trusted() -> None:
    message = rpc.classify({"jsonrpc": "2.0", "method": 3, "Timestamp": 1.0, "code": 0, "id": 1})
    assert isinstance(message, rpc.Reply)
    assert message.method is None and message.timestamp is None


@pytest.mark.parametrize("obj, reason", [
    ([1, 2], "not a JSON object: list"),
    ("x", "not a JSON object: str"),
    ({"method": ["x"]}, "method is not a string"),
    ({}, "neither an event, a reply nor a request"),
    ({"params": [1]}, "neither an event, a reply nor a request"),
])
def test_malformed(obj: object, reason: str) -> None:
    message = rpc.classify(obj, b"the line")
    assert message == rpc.Malformed(b"the line", reason)
