"""encode_request and the verify marker (§2.7), strip_verify, encode_reply/encode_event."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indi_seestar.errors import LocalProtocolError
from indi_seestar.protocol import rpc
from indi_seestar.protocol.methods import Method

from .support import FAST, json_values

NONE, MARKER = rpc.VerifyPolicy.NONE, rpc.VerifyPolicy.MARKER
AUTH = ["get_verify_str", "verify_client", "pi_is_verified",
        Method.GET_VERIFY_STR, Method.VERIFY_CLIENT, Method.PI_IS_VERIFIED]


def wire(request: rpc.Request, policy: rpc.VerifyPolicy) -> dict:
    line = rpc.encode_request(request, policy)
    assert line.endswith(b"\r\n") and line.count(b"\n") == 1
    return json.loads(line)


@pytest.mark.parametrize("firmware, policy", [
    (None, MARKER), (0, NONE), (2470, NONE), (2582, NONE), (2583, MARKER), (2670, MARKER),
    (2706, MARKER), (2732, MARKER),
])
def test_policy_for_firmware(firmware: int | None, policy: rpc.VerifyPolicy) -> None:
    assert rpc.VerifyPolicy.for_firmware(firmware) is policy


# params shape -> what MARKER puts on the wire ("absent" = no params key).
SHAPES = [
    pytest.param(rpc.NO_PARAMS, ["verify"], id="no-params"),
    pytest.param(None, ["verify"], id="null"),
    pytest.param([], ["verify"], id="empty-list"),
    pytest.param([1], [1, "verify"], id="one-element-list"),
    pytest.param([8.69, 19.51], [8.69, 19.51, "verify"], id="list"),
    pytest.param(["gain", 80], ["gain", 80, "verify"], id="mixed-list"),
    pytest.param([{"group_name": "M44"}], [{"group_name": "M44"}, "verify"], id="list-of-object"),
    pytest.param([[1, 2]], [[1, 2], "verify"], id="nested-list"),
    pytest.param(True, [True, "verify"], id="bool"),
    pytest.param(False, [False, "verify"], id="false"),
    pytest.param(3, [3, "verify"], id="int"),
    pytest.param(2.5, [2.5, "verify"], id="float"),
    pytest.param("Stack", ["Stack", "verify"], id="string"),
    pytest.param({}, {}, id="empty-object"),
    pytest.param({"stage": "Stack"}, {"stage": "Stack"}, id="object"),
]


@pytest.mark.parametrize("params, marked", SHAPES)
def test_marker_policy_places_the_marker_by_params_shape(params: object, marked: object) -> None:
    obj = wire(rpc.Request(10001, "scope_goto", params), MARKER)
    assert obj["params"] == marked
    assert list(obj) == ["method", "params", "id"]
    if isinstance(params, dict):
        # fw 6.70/7.06 answer 109 to a verify key inside an object: objects go unmarked.
        assert "verify" not in json.dumps(obj)


@pytest.mark.parametrize("params, marked", SHAPES)
def test_none_policy_sends_params_untouched(params: object, marked: object) -> None:
    obj = wire(rpc.Request(10001, "scope_goto", params), NONE)
    if params is rpc.NO_PARAMS:
        assert "params" not in obj
        assert list(obj) == ["method", "id"]
    else:
        assert obj["params"] == params
    assert "verify" not in json.dumps(obj)


def test_a_tuple_is_marked_like_the_json_array_it_becomes() -> None:
    assert json.loads(rpc.encode_request(rpc.Request(1, "scope_goto", (8.5, 19.5)), NONE))["params"] == [8.5, 19.5]
    assert wire(rpc.Request(1, "scope_goto", (8.5, 19.5)), MARKER)["params"] == [8.5, 19.5, "verify"]


@pytest.mark.parametrize("method", AUTH)
@pytest.mark.parametrize("params, marked", SHAPES)
@pytest.mark.parametrize("policy", [NONE, MARKER])
def test_login_methods_never_carry_the_marker(method: str, params: object, marked: object,
                                              policy: rpc.VerifyPolicy) -> None:
    assert rpc.apply_verify(method, params, policy) is params
    obj = wire(rpc.Request(1001, method, params), policy)
    assert obj.get("params", rpc.NO_PARAMS) == params
    assert obj["method"] == str(method)


def test_encoded_request_is_compact_and_keeps_the_id() -> None:
    line = rpc.encode_request(rpc.Request(10121, "get_focuser_position"), MARKER)
    # The recorded S50 client wrote this exact line (s50_fw670_a).
    assert line == b'{"method":"get_focuser_position","params":["verify"],"id":10121}\r\n'
    assert rpc.encode_request(rpc.Request("hb", Method.TEST_CONNECTION)) == \
        b'{"method":"test_connection","id":"hb"}\r\n'


def test_encoded_request_decodes_back() -> None:
    request = rpc.Request(7, "scope_goto", [1.5, -20.25])
    (decoded,) = rpc.RpcDecoder().feed(rpc.encode_request(request, NONE))
    assert decoded == request
    (marked,) = rpc.RpcDecoder().feed(rpc.encode_request(request, MARKER))
    assert rpc.strip_verify(marked.params) == (request.params, True)


@pytest.mark.parametrize("params", [[math.nan], {"x": math.inf}, object(), {1j: 2}])
def test_unencodable_params_raise_local_protocol_error(params: object) -> None:
    with pytest.raises(LocalProtocolError):
        rpc.encode_request(rpc.Request(1, "scope_goto", params))


def expected_after_round_trip(params: object) -> object:
    """What a server sees after apply(MARKER) + strip: the documented normalisations only."""
    if params is None or params == []:
        return rpc.NO_PARAMS  # both go out as ["verify"]
    if isinstance(params, list) and len(params) == 1 and not isinstance(params[0], (list, dict)):
        return params[0]  # [x] and x are the same once marked
    return params


@FAST
@given(st.one_of(st.just(rpc.NO_PARAMS), json_values))
def test_strip_verify_inverts_apply_verify(params: object) -> None:
    marked = rpc.apply_verify("scope_goto", params, MARKER)
    if isinstance(params, dict):
        assert marked is params
        assert rpc.strip_verify(marked) == ({k: v for k, v in params.items() if k != "verify"},
                                            "verify" in params)
        return
    bare, had_marker = rpc.strip_verify(marked)
    assert had_marker
    assert bare == expected_after_round_trip(params)
    # And through the real wire: encode, decode, strip.
    (request,) = rpc.RpcDecoder().feed(rpc.encode_request(rpc.Request(1, "scope_goto", params), MARKER))
    assert rpc.strip_verify(request.params) == (bare, True)


@FAST
@given(json_values)
def test_strip_verify_leaves_unmarked_params_alone(params: object) -> None:
    if isinstance(params, list) and params and params[-1] == "verify":
        return
    if isinstance(params, dict) and "verify" in params:
        return
    assert rpc.strip_verify(params) == (params, False)


@pytest.mark.parametrize("params, bare", [
    (["verify"], rpc.NO_PARAMS),
    ([True, "verify"], True),
    ([2, "verify"], 2),
    ([8.69, 19.51, "verify"], [8.69, 19.51]),
    ([[{"group_name": "M44"}], "verify"], [[{"group_name": "M44"}]]),
    ([{"group_name": "M44"}, "verify"], [{"group_name": "M44"}]),
    ({"restart": True, "verify": True}, {"restart": True}),
    (["verify", "verify"], "verify"),
])
def test_strip_verify_on_recorded_and_edge_forms(params: object, bare: object) -> None:
    assert rpc.strip_verify(params) == (bare, True)


def test_encode_reply_success_key_order() -> None:
    reply = rpc.Reply(100010, "test_connection", 0, "server connected!", timestamp="4387.986091920")
    line = rpc.encode_reply(reply)
    assert line == (b'{"jsonrpc":"2.0","Timestamp":"4387.986091920","method":"test_connection",'
                    b'"result":"server connected!","code":0,"id":100010}\r\n')


def test_encode_reply_error_key_order_has_no_result() -> None:
    reply = rpc.Reply(100003, "set_setting", 109, error="unexpected param", timestamp="5106.251243274")
    obj = json.loads(rpc.encode_reply(reply))
    assert list(obj) == ["jsonrpc", "Timestamp", "method", "error", "code", "id"]
    assert obj["error"] == "unexpected param" and obj["code"] == 109


def test_encode_reply_defaults() -> None:
    obj = json.loads(rpc.encode_reply(rpc.Reply(1, None, 0, None)))
    assert obj == {"jsonrpc": "2.0", "Timestamp": "0.000000000", "result": None, "code": 0, "id": 1}
    obj = json.loads(rpc.encode_reply(rpc.Reply(2, "x", 103)))
    assert obj["error"] == "error" and "result" not in obj


def test_encode_event_key_order_and_round_trip() -> None:
    event = rpc.Event("ScopeGoto", "5140.224842966",
                      {"state": "working", "lapse_ms": 0, "cur_ra_dec": [8.701667, 19.589167],
                       "dist_deg": 0.164454, "route": ["View", "AutoGoto"]})
    line = rpc.encode_event(event)
    assert list(json.loads(line)) == ["Event", "Timestamp", "state", "lapse_ms", "cur_ra_dec",
                                      "dist_deg", "route"]
    (decoded,) = rpc.RpcDecoder().feed(line)
    assert decoded == event and decoded.fields == event.fields


@FAST
@given(st.integers(0, 2**31), st.sampled_from([m.value for m in Method]), json_values,
       st.integers(-1000, 1000), st.text(max_size=20))
def test_reply_round_trip(reply_id: int, method: str, result: object, code: int, text: str) -> None:
    reply = rpc.Reply(reply_id, method, code, result if code == 0 else None,
                      None if code == 0 else text or "error", "12.000000001")
    (decoded,) = rpc.RpcDecoder().feed(rpc.encode_reply(reply))
    assert decoded == reply
