"""accounts/idnumber.py: GB 11643-1999 numbers, checked against the standard's own example and by properties."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from zhunong.accounts import idnumber
from zhunong.accounts.errors import IdNumberBirthDate, IdNumberChecksum, IdNumberMalformed, IdNumberRegion

TODAY = dt.date(2026, 12, 4)
# The worked example of GB 11643-1999 (appendix): 11010519491231002X.
STANDARD_EXAMPLE = "11010519491231002X"


def test_the_standards_example_is_valid_and_parsed():
    rid = idnumber.parse(STANDARD_EXAMPLE, today=TODAY)
    assert rid.region_code == "110105"
    assert rid.province == "北京市"
    assert rid.birth_date == dt.date(1949, 12, 31)
    assert rid.sequence == "002"
    assert rid.sex == "female"
    assert rid.masked == "110105********002X"


def test_weights_are_the_standards():
    assert idnumber.WEIGHTS == (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


@pytest.mark.parametrize("raw", [" 110105 19491231 002x ", "11010519491231002x", "110105\u300019491231002X"])
def test_spaces_and_lower_case_x_are_normalised(raw):
    assert idnumber.parse(raw, today=TODAY).number == STANDARD_EXAMPLE


@pytest.mark.parametrize("raw", ["", "110105194912310", "1101051949123100", "11010519491231002XX",
                                 "1101051949123100X2", "A1010519491231002X", "１１０１０５１９４９１２３１００２Ｘ",
                                 "11010519491231002Y", None, 110105194912310020])
def test_malformed(raw):
    with pytest.raises(IdNumberMalformed) as exc:
        idnumber.parse(raw, today=TODAY)
    assert exc.value.code == "id_number_malformed"


def test_wrong_check_character():
    with pytest.raises(IdNumberChecksum) as exc:
        idnumber.parse("110105194912310021", today=TODAY)
    assert exc.value.code == "id_number_checksum"


@pytest.mark.parametrize("birth", ["19490230", "20231301", "20230001", "20230100", "18991231", "20261205",
                                   "21000101", "20230229"])
def test_impossible_or_future_birth_dates(birth):
    with pytest.raises(IdNumberBirthDate):
        idnumber.parse(idnumber.with_check_char(f"430923{birth}123"), today=TODAY)


def test_29_february_of_a_leap_year_and_today_are_fine():
    assert idnumber.parse(idnumber.with_check_char("43092320000229123"), today=TODAY).birth_date == dt.date(2000, 2, 29)
    assert idnumber.parse(idnumber.with_check_char("43092320261204123"), today=TODAY).birth_date == TODAY


@pytest.mark.parametrize("region", ["000000", "100101", "160101", "710101", "810101", "830000", "910101", "430000"])
def test_region_codes_outside_the_mainland_provinces(region):
    with pytest.raises(IdNumberRegion):
        idnumber.parse(idnumber.with_check_char(f"{region}19900101123"), today=TODAY)


def test_all_31_provinces_are_known():
    assert len(idnumber.PROVINCES) == 31
    for code in idnumber.PROVINCES:
        idnumber.parse(idnumber.with_check_char(f"{code}010119900101123"[:17]), today=TODAY)


@pytest.mark.parametrize(("birth", "day", "age"), [
    (dt.date(2010, 12, 4), dt.date(2026, 12, 4), 16),
    (dt.date(2010, 12, 5), dt.date(2026, 12, 4), 15),
    (dt.date(2008, 2, 29), dt.date(2024, 2, 29), 16),
    (dt.date(2008, 2, 29), dt.date(2025, 2, 28), 16),
    (dt.date(2012, 2, 29), dt.date(2028, 2, 28), 15),  # a common year's 28 February is not yet the birthday
    (dt.date(2012, 2, 29), dt.date(2028, 2, 29), 16),
    (dt.date(2012, 2, 29), dt.date(2028, 3, 1), 16),
    (dt.date(2011, 3, 1), dt.date(2027, 2, 28), 15),
])
def test_age_on(birth, day, age):
    assert idnumber.age_on(birth, day) == age


@pytest.mark.parametrize(("region", "county", "agreement"), [
    ("430923", "430923", "same_county"), ("430921", "430923", "same_city"), ("430100", "430923", "same_province"),
    ("520101", "430923", "elsewhere"), ("430923", "", "unknown"), ("430923", "43", "unknown"),
])
def test_region_agreement(region, county, agreement):
    assert idnumber.region_agreement(region, county) == agreement


# --- properties --------------------------------------------------------------------------------------

provinces = st.sampled_from(sorted(idnumber.PROVINCES))
births = st.dates(min_value=idnumber.EARLIEST_BIRTH, max_value=TODAY)
valid_numbers = st.builds(
    lambda p, rest, birth, seq: idnumber.with_check_char(f"{p}{rest:04d}{birth:%Y%m%d}{seq:03d}"),
    provinces, st.integers(1, 9999), births, st.integers(0, 999))


@given(valid_numbers)
def test_every_generated_valid_number_parses_and_round_trips(number):
    rid = idnumber.parse(number, today=TODAY)
    assert rid.number == number
    assert rid.birth_date.strftime("%Y%m%d") == number[6:14]
    assert rid.masked[:6] == number[:6] and rid.masked[-4:] == number[-4:] and rid.masked[6:14] == "*" * 8
    assert idnumber.parse(number.lower(), today=TODAY) == rid


@given(valid_numbers, st.integers(0, 16), st.integers(0, 9))
def test_any_single_digit_change_is_caught(number, position, digit):
    """MOD 11-2 detects every single-character substitution: the changed number never passes the check."""
    assume(number[position] != str(digit))
    changed = number[:position] + str(digit) + number[position + 1:]
    assert idnumber.check_char(changed[:17]) != changed[17]


@given(valid_numbers, st.integers(0, 15))
def test_any_adjacent_transposition_is_caught(number, position):
    assume(number[position] != number[position + 1])
    swapped = number[:position] + number[position + 1] + number[position] + number[position + 2:]
    assert idnumber.check_char(swapped[:17]) != swapped[17]


@given(st.text(max_size=25))
def test_arbitrary_text_is_either_valid_or_refused_with_a_code(raw):
    try:
        rid = idnumber.parse(raw, today=TODAY)
    except (IdNumberMalformed, IdNumberChecksum, IdNumberBirthDate, IdNumberRegion) as exc:
        assert exc.code.startswith("id_number_")
    else:
        assert len(rid.number) == 18 and idnumber.check_char(rid.number[:17]) == rid.number[17]


@given(births, st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 1, 1)))
def test_age_is_monotonic_and_exact_on_birthdays(birth, day):
    assume(day >= birth)
    age = idnumber.age_on(birth, day)
    assert age >= 0
    assert idnumber.age_on(birth, day + dt.timedelta(days=1)) in (age, age + 1)
    if not (birth.month == 2 and birth.day == 29):
        assert idnumber.age_on(birth, birth.replace(year=birth.year + age)) == age
