"""The password policy (domain.passwords) and the account changes of issue 26 (domain.users): exact
boundaries and messages, so that a changed comparison, constant or branch fails a test."""

from datetime import UTC, datetime, timedelta

import pytest

from domain import passwords
from domain.errors import AdminNotErasable, WeakPassword
from domain.passwords import MAX_LENGTH, MIN_LENGTH, MIN_LOCAL_PART, check_password, common_passwords
from domain.users import ERASED_NAME, UNUSABLE_PASSWORD, User, erased_email

AT = datetime(2026, 12, 1, 12, tzinfo=UTC)
EMAIL = "ann@shop.test"


def reason(password: str, email: str = EMAIL) -> str | None:
    try:
        check_password(password, email)
    except WeakPassword as error:
        assert str(error) == f"the password is too weak: {error.reason}"
        return error.reason
    return None


def test_the_limits_are_nists_minimum_and_a_generous_cap() -> None:
    assert (MIN_LENGTH, MAX_LENGTH, MIN_LOCAL_PART) == (8, 1024, 3)


def test_length_boundaries_count_characters() -> None:
    assert reason("k7!qzT#") == "it must have at least 8 characters"
    assert reason("k7!qzT#w") is None
    assert reason("ü" * 8) is None  # characters, not bytes
    assert reason("k7!qzT#w" * 128) is None  # 1,024
    assert reason("k7!qzT#w" * 128 + "x") == "it may have at most 1024 characters"


def test_no_composition_rules() -> None:
    assert reason("correct horse battery staple") is None
    assert reason("all lower case words") is None


@pytest.mark.parametrize("password", ["password1", "PASSWORD1", "Password123", "iloveyou", "12345678"])
def test_common_passwords_are_refused_in_any_case(password: str) -> None:
    assert reason(password) == "it is one of the most common passwords found in breaches"


def test_the_blocklist_ships_with_the_package_and_holds_ten_thousand() -> None:
    listed = common_passwords()
    assert len(listed) == 10_000
    assert all(len(p) >= MIN_LENGTH and p == p.casefold() for p in listed)
    assert passwords.BLOCKLIST.is_file()


def test_the_e_mail_local_part_is_refused_case_insensitively() -> None:
    assert reason("my-ANN-secret") == "it contains the e-mail address's local part"
    assert reason("xx-bob-xx-long", "Bob@shop.test") == "it contains the e-mail address's local part"
    assert reason("annabelle-secret", "ANNABELLE@x.test") == "it contains the e-mail address's local part"


def test_short_local_parts_and_other_domains_do_not_count() -> None:
    assert reason("jo-has-a-secret", "jo@shop.test") is None  # 2 characters: too short to refuse
    assert reason("shop-test-secret") is None  # the domain is not the local part
    assert reason("ann-secret-1", "no-at-sign") is None  # no local part at all


def test_the_first_rule_broken_is_named() -> None:
    assert reason("ann", EMAIL) == "it must have at least 8 characters"  # short wins over the local part


def customer(user_id: int = 7) -> User:
    user = User.create(email="Ann@Shop.test", name="Ann", password_hash="h", at=AT)
    user.id = user_id
    return user


def test_record_login_sets_the_time_and_nothing_else() -> None:
    user = customer()
    user.record_login(AT + timedelta(hours=1))
    assert (user.last_login_at, user.updated_at, user.credentials_version) == (AT + timedelta(hours=1), AT, 1)


def test_erase_anonymises_deactivates_and_revokes() -> None:
    user = customer()
    user.record_login(AT)
    assert not user.is_erased
    assert user.erase(AT + timedelta(minutes=5)) is True
    assert (user.email, user.name, user.password_hash) == (
        "erased-7@erased.invalid",
        "Erased user",
        "!erased",
    )
    assert (user.is_active, user.last_login_at, user.credentials_version) == (False, None, 2)
    assert user.updated_at == AT + timedelta(minutes=5)
    assert user.is_erased and not user.accepts_token_version(2)
    assert (ERASED_NAME, UNUSABLE_PASSWORD, erased_email(12)) == (
        "Erased user",
        "!erased",
        "erased-12@erased.invalid",
    )


def test_erasing_twice_changes_nothing() -> None:
    user = customer()
    user.erase(AT)
    assert user.erase(AT + timedelta(days=1)) is False
    assert (user.credentials_version, user.updated_at) == (2, AT)


def test_an_inactive_customer_is_erased_too_and_its_tokens_revoked() -> None:
    user = customer()
    user.deactivate(AT)
    assert user.erase(AT) is True
    assert (user.is_active, user.credentials_version) == (False, 3)


def test_an_admin_is_not_erased() -> None:
    user = customer(9)
    user.is_admin = True
    with pytest.raises(AdminNotErasable) as refused:
        user.erase(AT)
    assert str(refused.value) == "user 9 is an admin; demote them (is_admin=false) to erase the account"
    assert (user.email, user.is_active, user.credentials_version) == ("ann@shop.test", True, 1)


def test_only_the_placeholder_of_its_own_id_is_erased() -> None:
    user = customer(7)
    user.email = erased_email(8)
    assert not user.is_erased
    assert not User.create(email="erased-1@erased.invalid", name="x", password_hash="h", at=AT).is_erased
