"""Postal addresses in nine formats, from the street through unit, postcode, city and country.

A street is found by its shape (number + name + suffix in English; "12 rue de la Paix";
"Hauptstraße 5", "Keizersgracht 123"; "Calle Mayor 12", "Via Roma 10"; "ul. Marszałkowska
10/12"; "建国路88号"; "丸の内1-1-1"), then the tail that follows is taken along: a unit
("Apt 4B", "3º B", "m. 5"), a postcode and city ("10115 Berlin", "00-950 Warszawa", "1015 CJ
Amsterdam", "Springfield, IL 62704", "London SW1A 2AA"), a province ("(RM)") and a country.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from bastion.guards.pii.entity import ADDRESS, Entity

_UP = "A-ZÀ-ÖØ-ÞĄĆĘŁŃŚŹŻ"
_LOW = "a-zà-öø-ÿąćęłńśźżß"
_CAP = rf"[{_UP}][{_LOW}'’]+(?:-[{_UP}]?[{_LOW}]+)*"
_CAPS = rf"{_CAP}(?: {_CAP}){{0,2}}"
_EN_SUFFIX = (
    r"(?:(?:Street|Avenue|Road|Boulevard|Lane|Drive|Court|Way|Place|Terrace|Parkway|Highway|"
    r"Circle|Square|Trail|Close|Crescent|Loop|Row|Walk|Gardens|Mews|Grove|Hill|Plaza|Alley)\b|"
    r"(?:St|Ave|Rd|Blvd|Ln|Dr|Ct|Pl|Ter|Pkwy|Hwy|Cir|Sq|Trl)\b\.?)"
)
_STREETS = (
    # 1600 Pennsylvania Avenue NW / 221B Baker Street / 1 Infinite Loop
    rf"\b\d{{1,6}}[A-Za-z]?(?:-\d{{1,4}})? (?:[NSEW]\.? )?(?:{_CAP} ){{1,3}}{_EN_SUFFIX}"
    r"(?: (?:NW|NE|SW|SE|N|S|E|W)\b)?",
    # 12 rue de la Paix / 5 avenue des Champs-Élysées / 3 bis, boulevard Haussmann
    r"\b\d{1,4}(?: ?bis| ?ter)?,? (?i:rue|avenue|av\.|boulevard|bd|chemin|allée|impasse|quai|"
    r"place|cours|route|passage) (?:(?:de la|de l'|de l’|du|des|de|d'|d’) ?)?"
    + _CAP + r"(?:[ -]" + _CAP + r"){0,2}",
    # Hauptstraße 5 / Keizersgracht 123 / Am Markt 3 / Unter den Linden 77
    rf"\b[{_UP}][{_LOW}]+(?:-[{_UP}][{_LOW}]+)*(?:straße|strasse|str\.|weg|gasse|platz|allee|"
    r"ring|damm|ufer|chaussee|steig|pfad|straat|gracht|laan|plein|kade|singel|dijk|steeg|"
    r"markt|hof|park)(?: \d{1,4}(?: ?[a-zA-Z]\b|-\d{1,4})?)",
    rf"\b(?:Am|An der|Auf dem|Im|In der|Unter den|Zum|Zur) {_CAP} \d{{1,4}}[a-z]?\b",
    # Calle Mayor 12 / C/ Alcalá, 45 / Via Roma 10 / Piazza di Spagna 3 / Rua Augusta 274
    r"\b(?:Calle|C/|Avenida|Avda\.|Av\.|Paseo|Plaza|Pza\.|Camino|Carrer|Ronda|Travesía|Via|"
    r"Viale|Piazza|Piazzale|Corso|Largo|Vicolo|Lungomare|Rua|Travessa|Praça) ?"
    r"(?:(?:de la|de los|de las|del|de|da|do|dos|das|di|della|dei|delle|degli) )?"
    + _CAPS + r",? (?:n\.?º? ?|nº ?|no\. ?)?\d{1,4}(?: ?[a-zA-Z]\b)?",
    # ul. Marszałkowska 10/12 / al. Jerozolimskie 65 / plac Zbawiciela 4
    rf"\b(?:ul\.|ulica|al\.|aleja|pl\.|plac|os\.|osiedle) ?{_CAPS} \d{{1,4}}[a-zA-Z]?"
    r"(?: ?/ ?\d{1,4}| m\. ?\d{1,4}| lok\. ?\d{1,4})?",
)  # fmt: skip
_UNIT = (
    r"(?:,? (?:Apt|Apartment|Suite|Ste|Unit|Flat|Floor|Wohnung|Whg\.|appt?\.?|bâtiment|"
    r"escalier|étage|piso|puerta|interno|int\.|scala|piano|m\.|lok\.|#)\.? ?[\w/-]{1,6}"
    r"|,? \d{1,2}º(?: ?[A-Z]\b)?(?:,? \d{1,2}ª)?)*"
)
_CITY = rf"{_CAP}(?:[ -](?:am |an der |sur |de |del )?{_CAP}){{0,2}}"
_TAILS = (
    rf"[,\s]{{1,3}}\d{{5}} {_CITY}(?: \([A-Z]{{2}}\))?(?: Cedex(?: \d{{1,2}})?)?",  # DE FR ES IT
    rf"[,\s]{{1,3}}\d{{2}}-\d{{3}} {_CITY}",  # PL
    rf"[,\s]{{1,3}}\d{{4}} ?[A-Z]{{2}} {_CITY}",  # NL
    rf"[,\s]{{1,3}}\d{{4}} {_CITY}",  # AT CH BE DK
    rf",? {_CITY},? [A-Z]{{2}},? \d{{5}}(?:-\d{{4}})?",  # US
    rf",? (?:{_CITY},? )?[A-Z]{{1,2}}\d[A-Z\d]? ?\d[A-Z]{{2}}\b",  # UK
    rf", {_CITY}(?=[.,;!?)\n]|$| (?:and|und|et|y|e|en|i|or)\b)",  # a bare city after a comma
)
_COUNTRY = (
    r"(?:,? (?:USA|U\.S\.A\.|United States|UK|United Kingdom|England|Germany|Deutschland|"
    r"France|Spain|España|Italy|Italia|Netherlands|Nederland|The Netherlands|Poland|Polska|"
    r"Austria|Österreich|Switzerland|Schweiz|Suisse|Belgium|Belgique|België|Portugal))?"
)
_LATIN = re.compile(
    "(?:"
    + "|".join(f"(?:{s})" for s in _STREETS)
    + ")"
    + f"(?:{_UNIT})(?:"
    + "|".join(_TAILS)
    + f")?{_COUNTRY}"
)
# A street without a suffix ("30 St Mary Axe", "1 Poultry") counts when a UK or US postal
# tail follows it.
_TAILED = re.compile(
    rf"\b\d{{1,5}}[A-Za-z]? (?:(?:St\.?|{_CAP}) ){{0,3}}{_CAP}"
    + "(?:"
    + _TAILS[4]
    + "|"
    + _TAILS[5]
    + ")"
    + _COUNTRY
)
_LEADING_POSTCODE = re.compile(rf"(?:\d{{5}}|\d{{2}}-\d{{3}}|\d{{4}} ?[A-Z]{{2}}) {_CITY},? $")

_CN_NUM = r"(?:\d{1,5}|[一二三四五六七八九十百]{1,4})"
_CN = re.compile(
    r"(?:\d{6}\s?)?(?:中国)?(?:[\u4e00-\u9fff]{2,7}?(?:省|自治区))?(?:[\u4e00-\u9fff]{2,6}?市)?"
    r"(?:[\u4e00-\u9fff]{1,6}?(?:区|县|镇|乡))?(?:[\u4e00-\u9fff]{1,8}?(?:街道))?"
    r"[\u4e00-\u9fff\d]{1,10}?(?:路|街|大街|大道|巷|胡同|里|弄)"
    rf"(?:{_CN_NUM}段)?{_CN_NUM}(?:号|號)(?:院)?(?:{_CN_NUM}(?:号楼|栋|幢|座|单元|楼))*(?:{_CN_NUM}(?:室|房|层))?"
)
_JP_NUM = r"(?:\d{1,4}|[０-９]{1,4}|[一二三四五六七八九十]{1,3})"
_JP = re.compile(
    r"(?:〒\s?\d{3}-\d{4}\s?)?(?:東京都|北海道|京都府|大阪府|[\u4e00-\u9fff]{2,3}県)?"
    r"(?:[\u4e00-\u9fff\u3040-\u30ff]{1,6}?(?:市|区|郡|町|村)){1,3}"
    r"[\u4e00-\u9fff\u3040-\u30ff]{0,16}?"
    rf"{_JP_NUM}(?:丁目|[-－ー−]){_JP_NUM}(?:(?:番地?|[-－ー−]){_JP_NUM}(?:号)?)?"
    r"(?:[ 　]?[\u4e00-\u9fff\u30a0-\u30ffA-Za-z]{1,12}(?:ビル|マンション|タワー|ハイツ|荘|"
    r"レジデンス|コーポ)?[ 　]?\d{1,4}(?:号室|階|F))?"
)


def find_addresses(text: str) -> Iterator[Entity]:
    if any(c.isdigit() for c in text):
        for m in _LATIN.finditer(text):
            start = m.start()
            # "10115 Berlin, Hauptstraße 5": a postcode and city written before the street.
            before = _LEADING_POSTCODE.search(text, max(0, start - 40), start)
            if before is not None:
                start = before.start()
            yield Entity(ADDRESS, start, m.end(), text[start : m.end()], 0.6)
        for m in _TAILED.finditer(text):
            yield Entity(ADDRESS, m.start(), m.end(), m.group(), 0.55)
        if any("\u3040" <= c <= "\u9fff" for c in text):
            for pattern in (_CN, _JP):
                for m in pattern.finditer(text):
                    yield Entity(ADDRESS, m.start(), m.end(), m.group(), 0.6)
