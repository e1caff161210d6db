"""Write the multilingual PII evaluation set (bastion/guards/data/pii_eval_multilingual.jsonl).

Templates and value pools were written for Bastion, per language, independently of the
detector's lists (names and places here were picked by hand, several of them rare or absent
from the shipped gazetteer, so the set measures more than list look-up). Numbers (cards,
IBANs) are generated with valid checksums; secrets are random. Seeded: the file is stable.

    python -m bench.pii_evalset
"""

from __future__ import annotations

import json
import random
import re
import string
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "bastion/guards/data/pii_eval_multilingual.jsonl"

NAMES = {
    "en": ["Jonathan Meyer", "Emily Carter", "Oluwaseun Adeyemi", "Priya Raman", "Liam O'Connor",
           "Hannah Whitfield", "Marcus Bell", "Chloe Fairbanks", "Declan Murphy", "Sarah Okafor",
           "Ethan Blackwood", "Natalie Pearce", "Rajesh Iyer", "Grace Holloway", "Tom Baxter"],
    "de": ["Lukas Schneider", "Anna Bergmann", "Jürgen Hoffmeister", "Katrin Vogel",
           "Felix Wagner", "Sabine Krüger", "Matthias Lehmann", "Lena Zimmermann",
           "Torsten Brandt", "Heike Schulte", "Moritz Albrecht", "Ulrike Franke"],
    "fr": ["Camille Dubois", "Julien Moreau", "Sophie Lefèvre", "Antoine Girard",
           "Élodie Fontaine", "Mathieu Rousseau", "Claire Bonnet", "Nicolas Chevalier",
           "Amélie Garnier", "Thibault Mercier", "Inès Lambert", "Baptiste Roux"],
    "es": ["Lucía Fernández", "Javier Morales", "Carmen Ruiz", "Alejandro Navarro",
           "Paula Jiménez", "Diego Herrera", "Marta Castillo", "Sergio Domínguez",
           "Elena Vázquez", "Pablo Ortega", "Nuria Serrano", "Andrés Molina"],
    "it": ["Giulia Bianchi", "Marco Esposito", "Francesca Romano", "Alessandro Ricci",
           "Chiara Colombo", "Matteo Marino", "Valentina Greco", "Lorenzo Bruno",
           "Elisa Gallo", "Davide Conti", "Sara De Luca", "Federico Mancini"],
    "nl": ["Daan de Vries", "Sanne Jansen", "Pieter van den Berg", "Lotte Bakker",
           "Bram Visser", "Femke Smit", "Ruben Mulder", "Eva de Boer", "Thijs Meijer",
           "Anouk Dekker", "Jeroen Hendriks", "Iris van Dijk"],
    "pl": ["Anna Kowalska", "Piotr Nowak", "Katarzyna Wiśniewska", "Tomasz Wójcik",
           "Magdalena Kamińska", "Krzysztof Lewandowski", "Agnieszka Zielińska",
           "Paweł Szymański", "Joanna Woźniak", "Michał Dąbrowski", "Ewa Kozłowska",
           "Marcin Jankowski"],
    "zh": ["王小明", "李娜", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "黄丽", "周杰", "吴敏"],
    "ja": ["田中太郎", "佐藤花子", "鈴木一郎", "高橋美咲", "伊藤健太", "渡辺直美", "山本翔",
           "中村由美", "小林大輔", "加藤真由美"],
}  # fmt: skip
ADDRESSES = {
    "en": ["742 Evergreen Terrace, Springfield, IL 62704", "221B Baker Street, London NW1 6XE",
           "1600 Amphitheatre Parkway, Mountain View, CA 94043",
           "15 Kingsway Road, Apt 4B, Leeds LS6 2AB", "88 Harbour Drive, Boston, MA 02110",
           "4 Windsor Close, Oxford OX2 7HG"],
    "de": ["Friedrichstraße 123, 10117 Berlin", "Lindenallee 7, 50968 Köln",
           "Hauptstraße 45a, 69117 Heidelberg", "Am Markt 3, 28195 Bremen",
           "Schillerweg 12, 04109 Leipzig", "Goethestraße 8, 80336 München"],
    "fr": ["12 rue de la Paix, 75002 Paris", "5 avenue Jean Médecin, 06000 Nice",
           "27 boulevard Haussmann, 75009 Paris", "3 place Bellecour, 69002 Lyon",
           "18 chemin des Vignes, 33000 Bordeaux", "9 rue Sainte-Catherine, 33000 Bordeaux"],
    "es": ["Calle Mayor 12, 3º B, 28013 Madrid", "Avenida Diagonal 640, 08017 Barcelona",
           "Calle de Alcalá 45, 28014 Madrid", "Paseo de Gracia 21, 08007 Barcelona",
           "Calle Larios 5, 29005 Málaga", "Plaza Mayor 3, 37002 Salamanca"],
    "it": ["Via Roma 10, 00184 Roma (RM)", "Corso Buenos Aires 33, 20124 Milano",
           "Via Garibaldi 8, 10122 Torino", "Piazza San Marco 1, 30124 Venezia",
           "Viale dei Mille 14, 50131 Firenze", "Via Toledo 256, 80134 Napoli"],
    "nl": ["Keizersgracht 123, 1015 CJ Amsterdam", "Coolsingel 40, 3011 AD Rotterdam",
           "Oudegracht 88, 3511 AP Utrecht", "Lange Voorhout 9, 2514 EA Den Haag",
           "Stationsweg 17, 9726 AC Groningen", "Vrijthof 2, 6211 LD Maastricht"],
    "pl": ["ul. Marszałkowska 10/12, 00-590 Warszawa", "ul. Floriańska 15, 31-019 Kraków",
           "al. Jerozolimskie 65, 00-697 Warszawa", "ul. Piotrkowska 104, 90-004 Łódź",
           "ul. Długa 22 m. 5, 80-831 Gdańsk", "pl. Solny 14, 50-062 Wrocław"],
    "zh": ["北京市朝阳区建国路88号", "上海市浦东新区世纪大道100号", "广州市天河区体育西路191号",
           "深圳市南山区科技园路1号", "杭州市西湖区文三路478号", "成都市武侯区人民南路四段11号"],
    "ja": ["〒100-0005 東京都千代田区丸の内1-1-1", "大阪府大阪市北区梅田3丁目1番1号",
           "東京都渋谷区道玄坂2-24-1", "〒450-0002 愛知県名古屋市中村区名駅1-1-4",
           "京都府京都市下京区烏丸通七条下ル東塩小路町721-1", "福岡県福岡市博多区博多駅中央街1-1"],
}  # fmt: skip
PLACES = {
    "en": ["Manchester", "Chicago", "Seattle", "Edinburgh", "Toronto", "Dublin"],
    "de": ["Hamburg", "Stuttgart", "Dresden", "Frankfurt", "Nürnberg", "Wien"],
    "fr": ["Marseille", "Toulouse", "Strasbourg", "Lille", "Nantes", "Genève"],
    "es": ["Sevilla", "Valencia", "Bilbao", "Zaragoza", "Granada", "Buenos Aires"],
    "it": ["Milano", "Bologna", "Palermo", "Genova", "Verona", "Torino"],
    "nl": ["Amsterdam", "Eindhoven", "Leiden", "Haarlem", "Utrecht", "Antwerpen"],
    "pl": ["Kraków", "Poznań", "Gdańsk", "Lublin", "Katowice", "Wrocław"],
    "zh": ["北京", "上海", "广州", "深圳", "杭州", "南京"],
    "ja": ["東京", "大阪", "京都", "横浜", "札幌", "福岡"],
}  # fmt: skip
DOBS = {
    "en": ["12/03/1985", "March 4, 1990", "1978-11-23", "7 July 1969"],
    "de": ["12.03.1985", "4. März 1990", "23.11.1978"],
    "fr": ["12/03/1985", "4 mars 1990", "23/11/1978"],
    "es": ["12/03/1985", "4 de marzo de 1990", "23-11-1978"],
    "it": ["12/03/1985", "4 marzo 1990", "23/11/1978"],
    "nl": ["12-03-1985", "4 maart 1990", "23-11-1978"],
    "pl": ["12.03.1985", "4 marca 1990", "23.11.1978"],
    "zh": ["1985年3月12日", "1990年4月4日"],
    "ja": ["1985年3月12日", "平成2年4月4日"],
}  # fmt: skip
PHONES = {
    "en": ["(415) 555-2671", "+44 20 7946 0958", "+1 212 555 0143"],
    "de": ["030 23125100", "+49 89 1234567", "0171 2345678"],
    "fr": ["01 42 68 53 00", "+33 6 12 34 56 78", "06 12 34 56 78"],
    "es": ["+34 912 345 678", "+34 612 345 678"],
    "it": ["+39 06 6982 1234", "+39 347 123 4567"],
    "nl": ["020 123 4567", "+31 6 12345678", "06 12345678"],
    "pl": ["+48 22 123 45 67", "+48 601 234 567"],
    "zh": ["13812345678", "+86 10 6512 3456"],
    "ja": ["03-1234-5678", "090-1234-5678"],
}  # fmt: skip

T = {
    "en": [
        "Please forward the signed contract to {name} before Friday.",
        "{name} called again about the refund; the card on file is {card}.",
        "Ship the replacement to {address} and email {email} when it leaves.",
        "Patient record: DOB {dob}, born in {place}. Contact {phone}.",
        "I spoke with {name} yesterday, she moved from {place} last spring.",
        "Our new supplier is based in {place}; wire the deposit to {iban}.",
        "Login failures from {ip} for user {email} since noon.",
        "The SSN on the application is {ssn}; date of birth {dob}.",
        "Use {aws_id} with secret {aws_secret} for the staging bucket.",
        "Connection string: {url} (do not share).",
        "my password is {pw} in case you need to log in",
        "Minutes: {name} and {name2} agreed to revisit the budget in {place}.",
        "Return address: {address}.",
        "Can you reach {name} at {phone}? It's urgent.",
    ],
    "de": [
        "Bitte schicken Sie die Unterlagen an {name}, Lieferadresse: {address}.",
        "{name} hat gestern angerufen, Rückruf unter {phone}.",
        "Geburtsdatum: {dob}, Geburtsort {place}.",
        "Überweisen Sie den Betrag auf {iban}, Kontoinhaber {name}.",
        "Mein Passwort ist {pw}, bitte nicht weitergeben.",
        "Die Kundin {name} wohnt jetzt in {place}; E-Mail: {email}.",
        "Meine neue Anschrift lautet {address}.",
        "Das Treffen mit {name} und {name2} findet in {place} statt.",
        "Zugriff von {ip} wurde blockiert.",
    ],
    "fr": [
        "Merci d'envoyer le colis à {name}, {address}.",
        "{name} a rappelé ce matin, son numéro est le {phone}.",
        "Né le {dob} à {place}, le client demande un remboursement.",
        "Virement sur le compte {iban} au nom de {name}.",
        "Mon mot de passe est {pw}, ne le partagez pas.",
        "J'ai déjeuné avec {name} à {place} la semaine dernière.",
        "Nouvelle adresse : {address}. Courriel : {email}.",
        "Réunion entre {name} et {name2} prévue à {place}.",
    ],
    "es": [
        "Por favor, envíe el pedido a {name}, {address}.",
        "{name} llamó otra vez; su teléfono es {phone}.",
        "Fecha de nacimiento: {dob}. Lugar de nacimiento: {place}.",
        "Transferencia a la cuenta {iban}, titular {name}.",
        "Mi contraseña es {pw}, no la compartas.",
        "Hablé con {name} ayer, se mudó a {place}.",
        "Mi dirección nueva es {address} y mi correo {email}.",
        "La reunión de {name} con {name2} será en {place}.",
    ],
    "it": [
        "Per favore spedisci il pacco a {name}, {address}.",
        "{name} ha chiamato di nuovo, il numero è {phone}.",
        "Data di nascita: {dob}, luogo di nascita {place}.",
        "Bonifico sul conto {iban} intestato a {name}.",
        "La mia password è {pw}, non condividerla.",
        "Ho parlato con {name} ieri, si è trasferita a {place}.",
        "Nuovo indirizzo: {address}. Email: {email}.",
        "{name} e {name2} si incontrano a {place} giovedì.",
    ],
    "nl": [
        "Stuur het pakket naar {name}, {address}.",
        "{name} belde opnieuw, haar nummer is {phone}.",
        "Geboortedatum: {dob}, geboren in {place}.",
        "Maak het bedrag over naar {iban} ten name van {name}.",
        "Mijn wachtwoord is {pw}, deel het niet.",
        "Ik sprak {name} gisteren, ze is verhuisd naar {place}.",
        "Nieuw adres: {address}. E-mail: {email}.",
        "{name} en {name2} spreken af in {place}.",
    ],
    "pl": [
        "Proszę wysłać paczkę do {name}, {address}.",
        "{name} dzwoniła ponownie, numer telefonu {phone}.",
        "Data urodzenia: {dob}, miejsce urodzenia {place}.",
        "Przelew na konto {iban}, odbiorca {name}.",
        "Moje hasło: {pw}, nie udostępniaj go.",
        "Rozmawiałem wczoraj z {name}, przeprowadziła się do {place}.",
        "Nowy adres: {address}. E-mail: {email}.",
        "{name} i {name2} spotkają się w {place}.",
    ],
    "zh": [
        "请把合同寄给{name}，地址：{address}。",
        "联系人：{name}，电话{phone}。",
        "出生日期：{dob}，出生地{place}。",
        "我昨天和{name}先生见面了，他下个月去{place}。",
        "我的密码是{pw}，请不要告诉别人。",
        "收件人：{name}，邮箱{email}。",
        "{name}女士的新地址是{address}。",
    ],
    "ja": [
        "契約書を{name}さんに送ってください。住所：{address}",
        "{name}様からお電話がありました。折り返しは{phone}までお願いします。",
        "生年月日：{dob}、出身地は{place}です。",
        "来週{place}で{name}さんと会います。",
        "パスワードは{pw}です。",
        "メールアドレスは{email}です。担当は{name}さんです。",
        "{name}さんの住所は{address}です。",
    ],
}  # fmt: skip
NEGATIVES = [
    ("en", "The quarterly report is due next Monday; please review section 3.2 first."),
    ("en", "Mark the ticket as resolved once the Grace period ends."),
    ("en", "Will the Python Software Foundation publish the roadmap in March?"),
    ("en", "Our order 44812 shipped in 3 boxes of 12 units each."),
    ("en", "Reading the Terms of Service is required before you sign in."),
    ("en", "Version 3.12.4 fixed the bug introduced in build 2024-06."),
    ("en", "Please change your password regularly and enable two-factor login."),
    ("en", "The Customer Success team meets every Tuesday at 10am."),
    ("de", "Die Rechnung Nr. 2023-000451 wurde am Montag bezahlt."),
    ("de", "Bitte lesen Sie die Allgemeinen Geschäftsbedingungen sorgfältig."),
    ("fr", "Le rapport annuel sera publié en mars, merci de votre patience."),
    ("es", "La reunión de equipo se mueve al jueves por la mañana."),
    ("it", "Il prossimo aggiornamento del software arriva la settimana prossima."),
    ("nl", "De vergadering is verplaatst naar donderdagmiddag."),
    ("pl", "Spotkanie zespołu zostało przeniesione na czwartek."),
    ("zh", "我们的会议改到明天下午三点，请准时参加。"),
    ("ja", "会議は明日の午後三時に変更になりました。"),
    ("en", "Set the timeout to 30 seconds and retry 5 times with backoff."),
    ("en", "The Golden Gate Bridge photo won the contest."),
    ("en", "Apple and Microsoft both reported earnings on Thursday."),
]  # fmt: skip
COUNTRY_IBAN = {"en": "GB", "de": "DE", "fr": "FR", "es": "ES", "it": "IT", "nl": "NL",
                "pl": "PL", "zh": "DE", "ja": "FR"}  # fmt: skip
IBAN_LEN = {"GB": 22, "DE": 22, "FR": 27, "ES": 24, "IT": 27, "NL": 18, "PL": 28}
PASSWORDS = ["hunter2", "Sommer2024!", "chaton99", "Xk9#pLm2", "bluefrog77", "Qwerty!23"]


def _iban(rng: random.Random, country: str) -> str:
    n = IBAN_LEN[country] - 4
    if country in ("GB", "NL"):
        bban = "".join(rng.choices(string.ascii_uppercase, k=4)) + "".join(
            rng.choices(string.digits, k=n - 4)
        )
    elif country in ("FR", "IT"):
        bban = "".join(rng.choices(string.digits, k=n))
        if country == "IT":
            bban = "X" + bban[1:]
    else:
        bban = "".join(rng.choices(string.digits, k=n))
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    check = 98 - int(digits) % 97
    raw = f"{country}{check:02d}{bban}"
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def _card(rng: random.Random) -> str:
    prefix = rng.choice(["4", "51", "55", "37", "6011"])
    length = 15 if prefix == "37" else 16
    body = prefix + "".join(rng.choices(string.digits, k=length - len(prefix) - 1))
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    number = body + str((10 - total % 10) % 10)
    if length == 15:
        return f"{number[:4]} {number[4:10]} {number[10:]}"
    return " ".join(number[i : i + 4] for i in range(0, 16, 4))


def _values(rng: random.Random, lang: str) -> dict[str, tuple[str, str]]:
    names = rng.sample(NAMES[lang], 2)
    alnum = string.ascii_letters + string.digits
    user = rng.choice(["anna.k", "j.meyer", "info", "m_rossi", "li.na", "t.baxter"])
    return {
        "name": ("name", names[0]),
        "name2": ("name", names[1]),
        "address": ("address", rng.choice(ADDRESSES[lang])),
        "place": ("location", rng.choice(PLACES[lang])),
        "dob": ("dob", rng.choice(DOBS[lang])),
        "phone": ("phone", rng.choice(PHONES[lang])),
        "email": ("email", f"{user}{rng.randint(1, 99)}@example-{lang}.com"),
        "card": ("card", _card(rng)),
        "iban": ("iban", _iban(rng, COUNTRY_IBAN[lang])),
        "ip": ("ip", f"{rng.randint(11, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}."
                     f"{rng.randint(1, 254)}"),
        "ssn": ("ssn", f"{rng.randint(100, 665)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}"),
        "aws_id": ("secret", "AKIA" + "".join(rng.choices(string.ascii_uppercase + "234567",
                                                          k=16))),
        "aws_secret": ("secret", "".join(rng.choices(alnum + "/+", k=40))),
        "url": ("secret", "".join(rng.choices(alnum, k=12))),
        "pw": ("secret", rng.choice(PASSWORDS)),
    }  # fmt: skip


def render(template: str, values: dict[str, tuple[str, str]]) -> dict[str, object]:
    text, entities, pos = "", [], 0
    for m in re.finditer(r"\{(\w+)\}", template):
        text += template[pos : m.start()]
        kind, value = values[m.group(1)]
        if m.group(1) == "url":  # only the password inside the URL is the secret
            prefix = "postgresql://app_user:"
            text += prefix
            entities.append({"type": kind, "start": len(text), "end": len(text) + len(value)})
            text += value + "@db.internal.example:5432/orders"
        else:
            entities.append({"type": kind, "start": len(text), "end": len(text) + len(value)})
            text += value
        pos = m.end()
    text += template[pos:]
    return {"text": text, "entities": entities}


def build(seed: int = 20261207, per_template: int = 3) -> list[dict[str, object]]:
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []
    for lang, templates in T.items():
        for template in templates:
            for _ in range(per_template):
                row = render(template, _values(rng, lang))
                row["lang"] = lang
                rows.append(row)
    rows.extend({"text": text, "entities": [], "lang": lang} for lang, text in NEGATIVES)
    return rows


def main() -> None:
    rows = build()
    with OUT.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} texts to {OUT}")


HOLDOUT_SOURCE = Path(__file__).resolve().parent / "data" / "pii_holdout.txt"
HOLDOUT = OUT.with_name("pii_holdout.jsonl")
_MARK = re.compile(r"\[\[(\w+):(.*?)\]\]")


def from_markup(line: str) -> dict[str, object]:
    """``lang<TAB>text with [[type:value]] marks`` → a labelled record."""
    lang, marked = line.rstrip("\n").split("\t", 1)
    text, entities, pos = "", [], 0
    for m in _MARK.finditer(marked):
        text += marked[pos : m.start()]
        entities.append({"type": m.group(1), "start": len(text), "end": len(text) + len(m[2])})
        text += m.group(2)
        pos = m.end()
    text += marked[pos:]
    return {"text": text, "entities": entities, "lang": lang}


def write_holdout() -> None:
    lines = HOLDOUT_SOURCE.read_text(encoding="utf-8").splitlines()
    with HOLDOUT.open("w", encoding="utf-8") as fh:
        for line in lines:
            if line.strip():
                fh.write(json.dumps(from_markup(line), ensure_ascii=False) + "\n")
    print(f"wrote {len(lines)} texts to {HOLDOUT}")


if __name__ == "__main__":
    main()
    write_holdout()
