"""Each PII type in each language: names without cue words, full addresses in nine formats,
dates of birth, place names, and the structured types written the local way."""

from __future__ import annotations

import pytest

from bastion.guards.pii import PiiDetector


@pytest.fixture(scope="module")
def detector() -> PiiDetector:
    return PiiDetector()


def spans(detector: PiiDetector, text: str) -> set[tuple[str, str]]:
    return {(e.type, e.text) for e in detector.detect(text)}


# (language, text, type, the exact span expected)
CASES = [
    # names, no cue word before them
    ("en", "Please loop in Margaret Collins on the renewal.", "name", "Margaret Collins"),
    ("en", "Kevin O'Brien approved it yesterday.", "name", "Kevin O'Brien"),
    ("de", "Gestern hat Stefan Krause die Rechnung geprüft.", "name", "Stefan Krause"),
    ("fr", "Le dossier est suivi par Aurélie Petit depuis mars.", "name", "Aurélie Petit"),
    ("es", "El pedido lo firmó Ramón Iglesias Soto.", "name", "Ramón Iglesias Soto"),
    ("it", "La pratica è seguita da Roberta Ferraro.", "name", "Roberta Ferraro"),
    ("nl", "Het contract ging naar Willem van der Linden.", "name", "Willem van der Linden"),
    ("pl", "Umowę podpisała Zofia Mazur w piątek.", "name", "Zofia Mazur"),
    ("pl", "Rozmawiałem wczoraj z Anną Kowalską.", "name", "Anną Kowalską"),
    ("pl", "Dziękuję Marii Wiśniewskiej za pomoc.", "name", "Marii Wiśniewskiej"),
    ("zh", "请通知李明先生明天来开会。", "name", "李明"),
    ("ja", "鈴木一郎さんから連絡がありました。", "name", "鈴木一郎"),
    ("en", "Can you ask Sarah about the budget?", "name", "Sarah"),
    ("de", "Anna sagte, dass sie morgen kommt.", "name", "Anna"),
    # full postal addresses, not cut after the street
    ("en", "Send it to 350 Fifth Avenue, New York, NY 10118.", "address",
     "350 Fifth Avenue, New York, NY 10118"),
    ("en", "Office: 30 St Mary Axe, London EC3A 8EP", "address",
     "30 St Mary Axe, London EC3A 8EP"),
    ("de", "Anschrift: Königsallee 60, 40212 Düsseldorf", "address",
     "Königsallee 60, 40212 Düsseldorf"),
    ("fr", "Adresse : 8 rue de Rivoli, 75004 Paris", "address", "8 rue de Rivoli, 75004 Paris"),
    ("es", "Dirección: Avenida de América 10, 28028 Madrid", "address",
     "Avenida de América 10, 28028 Madrid"),
    ("it", "Indirizzo: Corso Vittorio Emanuele 21, 10121 Torino", "address",
     "Corso Vittorio Emanuele 21, 10121 Torino"),
    ("nl", "Adres: Herengracht 502, 1017 CB Amsterdam", "address",
     "Herengracht 502, 1017 CB Amsterdam"),
    ("pl", "Adres: ul. Nowy Świat 15, 00-029 Warszawa", "address",
     "ul. Nowy Świat 15, 00-029 Warszawa"),
    ("zh", "地址：广州市越秀区中山五路219号", "address", "广州市越秀区中山五路219号"),
    ("ja", "住所：〒530-0001 大阪府大阪市北区梅田1-1-3", "address",
     "〒530-0001 大阪府大阪市北区梅田1-1-3"),
    # dates of birth
    ("en", "DOB: 03/22/1984", "dob", "03/22/1984"),
    ("en", "She was born on 9 October 1971.", "dob", "9 October 1971"),
    ("de", "Geburtsdatum: 01.02.1990", "dob", "01.02.1990"),
    ("fr", "Née le 14 juillet 1989 à Lyon.", "dob", "14 juillet 1989"),
    ("es", "Fecha de nacimiento: 5 de mayo de 1977", "dob", "5 de mayo de 1977"),
    ("it", "Nato il 12 marzo 1965 a Bari.", "dob", "12 marzo 1965"),
    ("nl", "Geboortedatum: 21-04-1993", "dob", "21-04-1993"),
    ("pl", "Data urodzenia: 30.11.1980", "dob", "30.11.1980"),
    ("zh", "出生日期：1979年5月4日", "dob", "1979年5月4日"),
    ("ja", "生年月日：1991年8月20日", "dob", "1991年8月20日"),
    # place names
    ("en", "We are opening an office in Chicago next year.", "location", "Chicago"),
    ("de", "Die Messe findet in Hannover statt.", "location", "Hannover"),
    ("fr", "Il habite maintenant à Toulouse.", "location", "Toulouse"),
    ("es", "Viajamos a Sevilla en abril.", "location", "Sevilla"),
    ("it", "Il convegno si tiene a Firenze.", "location", "Firenze"),
    ("nl", "Het magazijn staat in Eindhoven.", "location", "Eindhoven"),
    ("pl", "Oddział mieści się w Krakowie i Gdańsk.", "location", "Gdańsk"),
    ("zh", "他下周去上海出差。", "location", "上海"),
    ("ja", "来月は京都に行きます。", "location", "京都"),
    # structured types, local formats
    ("de", "Ruf mich an: 0151 23456789", "phone", "0151 23456789"),
    ("fr", "Mon numéro : 06 12 34 56 78", "phone", "06 12 34 56 78"),
    ("zh", "我的手机号是13912345678。", "phone", "13912345678"),
    ("ja", "電話は090-1234-5678です。", "phone", "090-1234-5678"),
    ("es", "IBAN: ES91 2100 0418 4502 0005 1332", "iban", "ES91 2100 0418 4502 0005 1332"),
    ("ja", "メールはtaro.yamada@example.jpです。", "email", "taro.yamada@example.jp"),
    ("zh", "邮箱wang.wei@example.cn，谢谢", "email", "wang.wei@example.cn"),
    # secrets
    ("en", "aws secret: 9drTJvcXLB89EXampLEkeyFORtEStS3cr3tK3y8Q", "secret",
     "9drTJvcXLB89EXampLEkeyFORtEStS3cr3tK3y8Q"),
    ("en", "redis://default:Sup3rS3cret@cache.internal:6379/0", "secret", "Sup3rS3cret"),
    ("en", "my password is hunter2", "secret", "hunter2"),
    ("en", "the password for the VPN is Summer2023", "secret", "Summer2023"),
    ("de", "Mein Passwort ist Sonne123!", "secret", "Sonne123!"),
    ("fr", "mon mot de passe est chaton42", "secret", "chaton42"),
    ("es", "mi contraseña es gato2024", "secret", "gato2024"),
    ("nl", "mijn wachtwoord is fiets88", "secret", "fiets88"),
    ("pl", "moje hasło: kot12345", "secret", "kot12345"),
    ("zh", "我的密码是abc12345，别告诉别人", "secret", "abc12345"),
]  # fmt: skip


@pytest.mark.parametrize(("lang", "text", "kind", "value"), CASES)
def test_each_type_in_each_language(
    detector: PiiDetector, lang: str, text: str, kind: str, value: str
) -> None:
    assert (kind, value) in spans(detector, text), (lang, spans(detector, text))


NOT_PII = [
    "Mark the ticket as done before the Grace period ends.",
    "Will the Python Software Foundation publish the roadmap in May?",
    "The Golden Gate Bridge was closed for repairs.",
    "Please change your password regularly.",
    "Reading the Terms of Service is required.",
    "Apple and Microsoft reported earnings on Thursday.",
    "Die Allgemeinen Geschäftsbedingungen gelten ab sofort.",
    "Version 3.12.4 fixed the bug from build 2024-06.",
    "我们明天下午三点开会。",
    "会議は明日の午後です。",
    "Order 44812 shipped in 3 boxes of 12 units.",
]


@pytest.mark.parametrize("text", NOT_PII)
def test_ordinary_text_is_left_alone(detector: PiiDetector, text: str) -> None:
    assert spans(detector, text) == set()


def test_a_name_that_is_also_a_word_needs_a_listed_surname(detector: PiiDetector) -> None:
    assert ("name", "Grace Thompson") in spans(detector, "Ask Grace Thompson about it.")
    assert spans(detector, "Grace Period applies.") == set()


def test_redaction_labels_for_the_new_types(detector: PiiDetector) -> None:
    text = "Born on 4 May 1980 in Dresden, now at Schillerweg 12, 04109 Leipzig."
    assert detector.redact(text).text == "Born on [DOB] in [LOCATION], now at [ADDRESS]."
