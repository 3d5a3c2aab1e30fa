"""Mainland resident ID numbers (居民身份证号码, GB 11643-1999): parsing and validation, no database.

A number has 18 characters: a 6-digit administrative region code (GB/T 2260; where the holder's household
was registered when the number was first issued), an 8-digit birth date YYYYMMDD, a 3-digit sequence
(odd for men, even for women) and a check character computed over the first 17 digits with ISO 7064
MOD 11-2 (weights 2^(17-i) mod 11; the remainder maps to 1 0 X 9 8 7 6 5 4 3 2). The rules applied here:

- format: exactly 17 digits and a digit or X (a lower-case x is read as X; spaces are removed). The old
  15-digit numbers (no century, no check digit) stopped being valid cards in 2013 and are refused.
- check character: ISO 7064 MOD 11-2 over the first 17 digits.
- birth date: a real calendar date, not after `today`, and not before 1900-01-01.
- region: the first two digits are one of the 31 mainland provinces (GB/T 2260: 11-15, 21-23, 31-37,
  41-46, 50-54, 61-65) and the four after them are not 0000 (a province-level code alone is never issued
  to a person). Hong Kong, Macao and Taiwan residence permits (83…) and foreigners' permanent residence
  cards are a different scheme and are out of scope. Whether the code agrees with the host's county is
  reported, not enforced (`region_agreement`): the number is for life, so a villager who married into
  the county, or a first secretary posted from a provincial office, keeps a code from elsewhere; the
  operator sees the agreement when verifying in person.

Errors carry stable codes (accounts/errors.py): `id_number_malformed`, `id_number_checksum`,
`id_number_birth_date`, `id_number_region`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from zhunong.core.redaction import mask_id_number

from .errors import IdNumberBirthDate, IdNumberChecksum, IdNumberMalformed, IdNumberRegion

# GB/T 2260 province-level codes of the mainland (the 31 provinces, autonomous regions and municipalities).
PROVINCES: dict[str, str] = {
    "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区",
    "21": "辽宁省", "22": "吉林省", "23": "黑龙江省",
    "31": "上海市", "32": "江苏省", "33": "浙江省", "34": "安徽省", "35": "福建省", "36": "江西省", "37": "山东省",
    "41": "河南省", "42": "湖北省", "43": "湖南省", "44": "广东省", "45": "广西壮族自治区", "46": "海南省",
    "50": "重庆市", "51": "四川省", "52": "贵州省", "53": "云南省", "54": "西藏自治区",
    "61": "陕西省", "62": "甘肃省", "63": "青海省", "64": "宁夏回族自治区", "65": "新疆维吾尔自治区",
}

WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))  # 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
CHECK_CHARS = "10X98765432"  # indexed by the weighted sum mod 11
EARLIEST_BIRTH = dt.date(1900, 1, 1)

_SHAPE = re.compile(r"\d{17}[\dX]")
_SPACES = re.compile(r"[\s\u3000]+")


def normalise(raw: object) -> str:
    """The number as stored and compared: spaces (also full-width) removed, x upper-cased."""
    if not isinstance(raw, str):
        raise IdNumberMalformed()
    return _SPACES.sub("", raw).upper()


def check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise IdNumberMalformed()
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def age_on(birth: dt.date, day: dt.date) -> int:
    """Whole years from `birth` to `day`. Someone born on 29 February turns a year older on 1 March in a
    common year (the later of the two readings, so an age limit is never met a day early)."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


@dataclass(frozen=True)
class ResidentId:
    number: str
    region_code: str
    birth_date: dt.date
    sequence: str

    @property
    def province_code(self) -> str:
        return self.region_code[:2]

    @property
    def province(self) -> str:
        return PROVINCES[self.province_code]

    @property
    def sex(self) -> str:
        return "male" if int(self.sequence[2]) % 2 else "female"

    @property
    def masked(self) -> str:
        return mask_id_number(self.number)

    def age_on(self, day: dt.date) -> int:
        return age_on(self.birth_date, day)


def parse(raw: object, *, today: dt.date) -> ResidentId:
    """Validate `raw` against every rule above (in that order) and return its parts."""
    number = normalise(raw)
    if not _SHAPE.fullmatch(number) or not number.isascii():
        raise IdNumberMalformed()
    if check_char(number[:17]) != number[17]:
        raise IdNumberChecksum()
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdNumberBirthDate() from None
    if birth > today or birth < EARLIEST_BIRTH:
        raise IdNumberBirthDate()
    region = number[:6]
    if region[:2] not in PROVINCES or region[2:] == "0000":
        raise IdNumberRegion()
    return ResidentId(number=number, region_code=region, birth_date=birth, sequence=number[14:17])


class RegionAgreement:
    """How an ID number's region code compares with a county's code (both GB/T 2260)."""

    SAME_COUNTY = "same_county"
    SAME_CITY = "same_city"
    SAME_PROVINCE = "same_province"
    ELSEWHERE = "elsewhere"
    UNKNOWN = "unknown"  # the county has no 6-digit code to compare with


def region_agreement(region_code: str, county_code: str) -> str:
    if not (len(county_code) == 6 and county_code.isdigit()):
        return RegionAgreement.UNKNOWN
    if region_code == county_code:
        return RegionAgreement.SAME_COUNTY
    if region_code[:4] == county_code[:4]:
        return RegionAgreement.SAME_CITY
    if region_code[:2] == county_code[:2]:
        return RegionAgreement.SAME_PROVINCE
    return RegionAgreement.ELSEWHERE


def with_check_char(first17: str) -> str:
    """`first17` completed with its check character (test and demo data)."""
    return first17 + check_char(first17)
