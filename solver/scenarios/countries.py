"""The 193 UN member states: ISO 3166-1 alpha-2 code, short name and the
language a principal would speak in a bilateral (ISO 639-1). Scenarios pick
delegations from here so that every generated problem uses real codes."""

from __future__ import annotations

from dataclasses import dataclass

# Names that take the article in running text ("Minister of Defence of the Philippines").
_WITH_ARTICLE = frozenset(
    [
        "AE",
        "BS",
        "CD",
        "CF",
        "CG",
        "DO",
        "GB",
        "GM",
        "KM",
        "KP",
        "KR",
        "LA",
        "MD",
        "MH",
        "MV",
        "NE",
        "NL",
        "PH",
        "RU",
        "SB",
        "SD",
        "SY",
        "TZ",
        "US",
    ]
)


@dataclass(frozen=True)
class Country:
    code: str
    name: str
    language: str

    @property
    def in_text(self) -> str:
        """The name as it reads after "of": with "the" where usage wants it."""
        return f"the {self.name}" if self.code in _WITH_ARTICLE else self.name


_TABLE = """
AF|Afghanistan|fa
AL|Albania|sq
DZ|Algeria|ar
AD|Andorra|ca
AO|Angola|pt
AG|Antigua and Barbuda|en
AR|Argentina|es
AM|Armenia|hy
AU|Australia|en
AT|Austria|de
AZ|Azerbaijan|az
BS|Bahamas|en
BH|Bahrain|ar
BD|Bangladesh|bn
BB|Barbados|en
BY|Belarus|ru
BE|Belgium|fr
BZ|Belize|en
BJ|Benin|fr
BT|Bhutan|dz
BO|Bolivia|es
BA|Bosnia and Herzegovina|bs
BW|Botswana|en
BR|Brazil|pt
BN|Brunei Darussalam|ms
BG|Bulgaria|bg
BF|Burkina Faso|fr
BI|Burundi|fr
CV|Cabo Verde|pt
KH|Cambodia|km
CM|Cameroon|fr
CA|Canada|en
CF|Central African Republic|fr
TD|Chad|fr
CL|Chile|es
CN|China|zh
CO|Colombia|es
KM|Comoros|fr
CG|Congo|fr
CR|Costa Rica|es
CI|Côte d'Ivoire|fr
HR|Croatia|hr
CU|Cuba|es
CY|Cyprus|el
CZ|Czechia|cs
KP|Democratic People's Republic of Korea|ko
CD|Democratic Republic of the Congo|fr
DK|Denmark|da
DJ|Djibouti|fr
DM|Dominica|en
DO|Dominican Republic|es
EC|Ecuador|es
EG|Egypt|ar
SV|El Salvador|es
GQ|Equatorial Guinea|es
ER|Eritrea|ti
EE|Estonia|et
SZ|Eswatini|en
ET|Ethiopia|am
FJ|Fiji|en
FI|Finland|fi
FR|France|fr
GA|Gabon|fr
GM|Gambia|en
GE|Georgia|ka
DE|Germany|de
GH|Ghana|en
GR|Greece|el
GD|Grenada|en
GT|Guatemala|es
GN|Guinea|fr
GW|Guinea-Bissau|pt
GY|Guyana|en
HT|Haiti|fr
HN|Honduras|es
HU|Hungary|hu
IS|Iceland|is
IN|India|en
ID|Indonesia|id
IR|Iran|fa
IQ|Iraq|ar
IE|Ireland|en
IL|Israel|he
IT|Italy|it
JM|Jamaica|en
JP|Japan|ja
JO|Jordan|ar
KZ|Kazakhstan|ru
KE|Kenya|en
KI|Kiribati|en
KW|Kuwait|ar
KG|Kyrgyzstan|ru
LA|Lao People's Democratic Republic|lo
LV|Latvia|lv
LB|Lebanon|ar
LS|Lesotho|en
LR|Liberia|en
LY|Libya|ar
LI|Liechtenstein|de
LT|Lithuania|lt
LU|Luxembourg|fr
MG|Madagascar|fr
MW|Malawi|en
MY|Malaysia|ms
MV|Maldives|dv
ML|Mali|fr
MT|Malta|en
MH|Marshall Islands|en
MR|Mauritania|ar
MU|Mauritius|en
MX|Mexico|es
FM|Micronesia|en
MC|Monaco|fr
MN|Mongolia|mn
ME|Montenegro|sr
MA|Morocco|ar
MZ|Mozambique|pt
MM|Myanmar|my
NA|Namibia|en
NR|Nauru|en
NP|Nepal|ne
NL|Netherlands|nl
NZ|New Zealand|en
NI|Nicaragua|es
NE|Niger|fr
NG|Nigeria|en
MK|North Macedonia|mk
NO|Norway|no
OM|Oman|ar
PK|Pakistan|en
PW|Palau|en
PA|Panama|es
PG|Papua New Guinea|en
PY|Paraguay|es
PE|Peru|es
PH|Philippines|en
PL|Poland|pl
PT|Portugal|pt
QA|Qatar|ar
KR|Republic of Korea|ko
MD|Republic of Moldova|ro
RO|Romania|ro
RU|Russian Federation|ru
RW|Rwanda|en
KN|Saint Kitts and Nevis|en
LC|Saint Lucia|en
VC|Saint Vincent and the Grenadines|en
WS|Samoa|en
SM|San Marino|it
ST|Sao Tome and Principe|pt
SA|Saudi Arabia|ar
SN|Senegal|fr
RS|Serbia|sr
SC|Seychelles|en
SL|Sierra Leone|en
SG|Singapore|en
SK|Slovakia|sk
SI|Slovenia|sl
SB|Solomon Islands|en
SO|Somalia|so
ZA|South Africa|en
SS|South Sudan|en
ES|Spain|es
LK|Sri Lanka|en
SD|Sudan|ar
SR|Suriname|nl
SE|Sweden|sv
CH|Switzerland|de
SY|Syrian Arab Republic|ar
TJ|Tajikistan|ru
TH|Thailand|th
TL|Timor-Leste|pt
TG|Togo|fr
TO|Tonga|en
TT|Trinidad and Tobago|en
TN|Tunisia|ar
TR|Türkiye|tr
TM|Turkmenistan|ru
TV|Tuvalu|en
UG|Uganda|en
UA|Ukraine|uk
AE|United Arab Emirates|ar
GB|United Kingdom|en
TZ|United Republic of Tanzania|en
US|United States|en
UY|Uruguay|es
UZ|Uzbekistan|uz
VU|Vanuatu|en
VE|Venezuela|es
VN|Viet Nam|vi
YE|Yemen|ar
ZM|Zambia|en
ZW|Zimbabwe|en
"""


def _parse(table: str) -> dict[str, Country]:
    rows = (line.split("|") for line in table.strip().splitlines())
    return {code: Country(code, name, language) for code, name, language in rows}


COUNTRIES: dict[str, Country] = _parse(_TABLE)
UN_MEMBERS: tuple[str, ...] = tuple(COUNTRIES)
