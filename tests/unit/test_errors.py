"""Every error class maps to a code, an HTTP status and an exit code (the one mapping in ies.errors)."""

from ies.errors import IESError, SignatureInvalid, all_error_classes, to_exit_code, to_http


def test_every_error_class_is_mapped() -> None:
    for cls in all_error_classes():
        assert cls.code and cls.code == cls.code.upper(), cls
        assert 400 <= cls.http_status <= 599, cls
        assert cls.exit_code in (1, 2), cls


def test_codes_are_unique() -> None:
    codes = [cls.code for cls in all_error_classes()]
    assert len(codes) == len(set(codes))


def test_signature_error_maps_to_401_and_nack_error_body() -> None:
    status, body = to_http(SignatureInvalid("bad", details={"path": "Authorization"}))
    assert status == 401
    assert body == {"code": "AUT_SIGNATURE_INVALID", "message": "bad", "details": {"path": "Authorization"}}
    assert to_exit_code(SignatureInvalid("x")) == 1
    assert to_exit_code(ValueError()) == 1
    assert isinstance(SignatureInvalid("x"), IESError)
