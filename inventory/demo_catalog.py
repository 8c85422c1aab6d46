"""What the demo fleet is drawn from: real makes and models with their makers' OUIs, invented suppliers."""

from typing import NamedTuple


class Product(NamedTuple):
    vendor: str
    model: str
    ouis: tuple[str, ...]   # IEEE MA-L blocks of the maker's network interfaces (all known to netaddr)
    serial: str             # template: '#' digit, '@' letter, '*' either; 'MAC' = the device's first MAC
    price: tuple[int, int]  # net unit price in euros, lowest and highest
    warranty: int           # years
    since: int = 2019       # year of market launch: nothing is bought before it exists


class Brand(NamedTuple):
    displays: tuple[Product, ...]
    ops: Product | None     # the slot-in (OPS) PC sold with the display; None where the make has no slot


class Supplier(NamedTuple):
    name: str
    invoice: str            # format with year, yy and n


# The makers' IEEE blocks (MA-L) the demo draws MACs from; every one is in netaddr's registry.
INTEL = ("A0:36:9F", "E4:C7:67", "A0:02:A5", "44:49:88", "10:2E:00", "20:3A:43", "C0:A5:E8", "90:65:84")
SMART, PROMETHEAN, VIEWSONIC, BENQ = ("00:02:75",), ("6C:DC:6A",), ("00:0B:14",), ("80:65:E9",)
CVTE = ("18:84:C1", "B4:AD:A3", "70:2E:D9")  # the maker behind Clevertouch panels
SAMSUNG = ("64:1B:2F", "84:22:89", "D0:D0:03")
APPLE = ("60:FD:A6", "F0:EE:7A", "58:AD:12", "40:92:1A")
UBIQUITI = ("24:5A:4C", "74:83:C2", "F0:9F:C2", "E0:63:DA")
ARUBA = ("20:4C:03", "94:B4:0F", "D8:C7:C8", "88:3A:30", "94:60:D5")
HPE = ("B8:6C:E0", "F4:39:09", "EC:8E:B5")
LANCOM = ("00:A0:57", "2C:D7:FF")
NETGEAR = ("9C:C9:EB", "38:94:ED", "28:80:88")
SOPHOS = ("A8:91:62", "C8:4F:86")
EPSON = ("A4:D7:3C", "64:EB:8C", "38:1A:52")
DELL = ("D0:43:1E", "98:90:96", "8C:EC:4B", "B0:83:FE", "A4:BB:6D", "E4:54:E8")
LENOVO = ("54:05:DB", "E8:80:88", "9C:2D:CD", "8C:16:45", "38:F3:AB")  # LCFC builds Lenovo's notebooks and PCs
FUJITSU = ("34:FE:9E", "68:84:7E", "B0:AC:FA", "B0:99:28", "A8:B2:DA")
HP = ("64:4E:D7", "7C:4D:8F", "C8:5A:CF", "5C:60:BA")
KYOCERA = ("00:17:C8", "00:C0:EE")
BROTHER = ("00:80:77", "30:05:5C", "3C:2A:F4")

DISPLAY_BRANDS = {
    "SMART": Brand(
        (Product("SMART Technologies", "SMART Board MX286-V3", SMART, "SBM3###@####", (4200, 5200), 5),
         Product("SMART Technologies", "SMART Board MX286-V4", SMART, "SBM4###@####", (4300, 5400), 5, 2022),
         Product("SMART Technologies", "SMART Board GX186-V2", SMART, "SBG2###@####", (3500, 4300), 5, 2021)),
        Product("SMART Technologies", "SMART OPS PC5 i5", INTEL, "SOPS5####@###", (750, 900), 5)),
    "Promethean": Brand(
        (Product("Promethean", "ActivPanel Titanium 86", PROMETHEAN, "AP7B86##@#####", (4400, 5500), 5),
         Product("Promethean", "ActivPanel 9 Premium 86", PROMETHEAN, "AP9B86##@#####", (4100, 5200), 5, 2022)),
        Product("Promethean", "ActivConnect OPS-M i5", INTEL, "OPSM##@######", (700, 880), 5)),
    "ViewSonic": Brand(
        (Product("ViewSonic", "ViewBoard IFP8650-3", VIEWSONIC, "WFV1#########", (3400, 4300), 5),
         Product("ViewSonic", "ViewBoard IFP8650-4", VIEWSONIC, "WFV2#########", (3500, 4400), 5, 2021),
         Product("ViewSonic", "ViewBoard IFP7550-4", VIEWSONIC, "WFU2#########", (2900, 3600), 5, 2021)),
        Product("ViewSonic", "ViewSonic Slot-in PC VPC25 i5", INTEL, "WGA2#########", (700, 850), 3)),
    "Clevertouch": Brand(
        (Product("Clevertouch", "UX Pro 86", CVTE, "CTUXP186######", (3500, 4500), 5),
         Product("Clevertouch", "UX Pro 2 86", CVTE, "CTUXP286######", (3600, 4600), 5, 2021),
         Product("Clevertouch", "UX Pro 2 75", CVTE, "CTUXP275######", (3000, 3800), 5, 2021)),
        Product("Clevertouch", "Clevertouch OPS i5 8/256", INTEL, "CTOPS5######", (720, 880), 5)),
    "BenQ": Brand(
        (Product("BenQ", "BenQ Board RP8602", BENQ, "ETB2@#########", (3400, 4400), 5),
         Product("BenQ", "BenQ Board RP8604", BENQ, "ETB4@#########", (3500, 4500), 5, 2022)),
        Product("BenQ", "BenQ OPS i5 8/256", INTEL, "ETF1@#########", (700, 860), 3)),
    "Samsung": Brand(
        (Product("Samsung", "Flip 2 WM85R", SAMSUNG, "0G4H@@@R######", (3600, 4600), 3),
         Product("Samsung", "Flip Pro WM85B", SAMSUNG, "0G4N@@@R######", (3900, 4900), 3, 2022)),
        None),
}
# Weights for which make a school's tender goes to: the big three win most.
BRAND_WEIGHTS = {"SMART": 5, "Promethean": 4, "ViewSonic": 4, "Clevertouch": 3, "BenQ": 2, "Samsung": 1}

PRODUCTS = {
    "document_camera": (  # USB cameras: no network interface
        Product("IPEVO", "VZ-X", (), "VZX########", (300, 380), 3),
        Product("Elmo", "MX-P2", (), "E2#######", (400, 520), 3),
        Product("Elmo", "MX-P3", (), "E3#######", (420, 560), 3, 2021),
        Product("Lumens", "Ladibug DC125", (), "DC125########", (300, 400), 3),
        Product("Lumens", "Ladibug DC193", (), "DC193########", (480, 600), 3)),
    "projector": (
        Product("Epson", "EB-L630U", EPSON, "X8@T#######", (2400, 3100), 5),),
    "access_point": (
        Product("Ubiquiti", "UniFi AP AC Pro", UBIQUITI, "MAC", (140, 170), 5),
        Product("Ubiquiti", "UniFi U6-Pro", UBIQUITI, "MAC", (150, 190), 5, 2021),
        Product("Ubiquiti", "UniFi U6-Enterprise", UBIQUITI, "MAC", (250, 320), 5, 2022),
        Product("HPE Aruba", "AP-505", ARUBA, "CNJ@@#####", (330, 400), 5),
        Product("LANCOM", "LW-600", LANCOM, "4005####@#######", (240, 300), 5)),
    "switch": (
        Product("HPE Aruba", "Aruba 2930F 48G PoE+ 4SFP+", ARUBA, "SG##@@@###", (2400, 3000), 5),
        Product("HPE Aruba", "Aruba CX 6100 24G Class4 PoE", ARUBA, "SG##@@@###", (1200, 1600), 5, 2021),
        Product("Netgear", "M4250-26G4F-PoE+", NETGEAR, "6@####@#####", (900, 1150), 5, 2021),
        Product("LANCOM", "GS-3652XP", LANCOM, "4006####@#######", (2300, 2900), 5)),
    "router": (
        Product("LANCOM", "1900EF", LANCOM, "4004####@#######", (700, 900), 5),
        Product("Sophos", "XGS 2100", SOPHOS, "X21####@@######", (1400, 1900), 3, 2021)),
    "server": (
        Product("Dell", "PowerEdge T140", DELL, "*******", (1800, 2600), 5),
        Product("Dell", "PowerEdge T150", DELL, "*******", (1900, 2800), 5, 2021),
        Product("Fujitsu", "PRIMERGY TX1330 M4", FUJITSU, "YL@@######", (2200, 3100), 5),
        Product("Fujitsu", "PRIMERGY TX1330 M5", FUJITSU, "YL@@######", (2300, 3300), 5, 2021),
        Product("HPE", "ProLiant ML30 Gen10 Plus", HPE, "CZ2###@@@@", (2100, 3000), 5, 2021)),
    "laptop": (
        Product("Lenovo", "ThinkPad L14 Gen 1", LENOVO, "PF@@@@@@", (760, 920), 3),
        Product("Lenovo", "ThinkPad L14 Gen 2", LENOVO, "PF@@@@@@", (780, 950), 3, 2021),
        Product("Lenovo", "ThinkPad E14 Gen 4", LENOVO, "PF@@@@@@", (620, 760), 3, 2022),
        Product("Dell", "Latitude 3510", DELL, "*******", (600, 700), 3),
        Product("Dell", "Latitude 3520", DELL, "*******", (600, 720), 3, 2021),
        Product("Dell", "Latitude 5430", DELL, "*******", (950, 1100), 3, 2022),
        Product("HP", "ProBook 450 G7", HP, "5CD0###@@@", (680, 820), 3),
        Product("HP", "ProBook 450 G8", HP, "5CD1###@@@", (700, 860), 3, 2021)),
    # Teacher loan laptops: the programme pays at most 500 € gross per device.
    "loan_laptop": (
        Product("Lenovo", "V15 G2 ITL", LENOVO, "PF@@@@@@", (369, 419), 3, 2021),
        Product("HP", "255 G8", HP, "5CG1###@@@", (349, 409), 3),
        Product("Dell", "Vostro 3510", DELL, "*******", (379, 419), 3, 2021)),
    "tablet": (
        Product("Apple", "iPad 10.2 (8. Gen) Wi-Fi 32 GB", APPLE, "DMP*********", (350, 390), 3, 2020),
        Product("Apple", "iPad 10.2 (8. Gen) Wi-Fi 128 GB", APPLE, "DMP*********", (420, 450), 3, 2020),
        Product("Apple", "iPad 10.2 (9. Gen) Wi-Fi 64 GB", APPLE, "DMP*********", (360, 410), 3, 2021)),
    "desktop": (
        Product("Lenovo", "ThinkCentre M70q", LENOVO, "MJ0@@@@@", (580, 740), 5),
        Product("Lenovo", "ThinkCentre M70q Gen 2", LENOVO, "MJ0@@@@@", (600, 760), 5, 2021),
        Product("Dell", "OptiPlex 3080 Micro", DELL, "*******", (550, 690), 3),
        Product("Dell", "OptiPlex 3090 Micro", DELL, "*******", (560, 700), 3, 2021),
        Product("Fujitsu", "ESPRIMO G5011", FUJITSU, "YM@@######", (620, 800), 5, 2021)),
    "printer": (
        Product("Kyocera", "ECOSYS M3145dn", KYOCERA, "V@@#######", (450, 600), 3),
        Product("Kyocera", "TASKalfa 2554ci", KYOCERA, "W@@#######", (1200, 1500), 3),
        Product("HP", "LaserJet Pro M404dn", HP, "PHB@######", (300, 380), 3),
        Product("Brother", "MFC-L8900CDW", BROTHER, "E7####@#N######", (550, 700), 3)),
}

# Which tender a device is bought in: one supplier and invoice per group, phase and school.
GROUP_SUPPLIERS = {
    "media": (Supplier("MediaTec Bildungstechnik GmbH", "RE-{year}-{n:05d}"),
              Supplier("Havelland Präsentationstechnik GmbH", "HPT{yy}{n:05d}")),
    "network": (Supplier("Netzwerk & Sicherheit Oberhavel GmbH", "NSO-{year}/{n:04d}"),
                Supplier("Brandenburger Schul-IT GmbH", "BSIT-{yy}-{n:05d}")),
    "it": (Supplier("Brandenburger Schul-IT GmbH", "BSIT-{yy}-{n:05d}"),
           Supplier("Märkische Computer-Service GmbH", "{year}{n:06d}")),
    "tablets": (Supplier("edu.solutions Potsdam GmbH", "EDU-{year}-{n:05d}"),
                Supplier("Märkische Computer-Service GmbH", "{year}{n:06d}")),
    "loan": (Supplier("Märkische Computer-Service GmbH", "{year}{n:06d}"),
             Supplier("edu.solutions Potsdam GmbH", "EDU-{year}-{n:05d}")),
    "office": (Supplier("Bürotechnik Kramer e.K.", "{n:05d}/{yy}"),),
}

# Hostname endings (linuxmuster allows 15 characters in all).
HOST_SUFFIX = {
    "interactive_display": "tafel", "ops_pc": "ops", "access_point": "ap", "laptop": "nb", "tablet": "ip",
    "desktop": "pc", "switch": "sw", "router": "gw", "printer": "dr", "server": "srv", "projector": "bm",
}
NETWORKED = frozenset(HOST_SUFFIX)
# Addresses from the bottom of the subnet (fixed); everything else draws from DHCP in the upper half.
STATIC_KINDS = frozenset({"access_point", "switch", "router", "printer", "server", "projector"})

CATEGORY = {
    "interactive_display": "display", "ops_pc": "display", "document_camera": "display", "projector": "display",
    "access_point": "wlan", "switch": "network", "router": "network", "server": "server",
    "laptop": "mobile", "tablet": "mobile", "desktop": "work_equipment",
}

# How often devices are not simply in use (weights); a key is a product line or a device kind.
STATUS_WEIGHTS = {
    "tablet": {"active": 70, "loaned": 20, "in_stock": 8, "repair": 2},
    "loan_laptop": {"loaned": 80, "in_stock": 15, "repair": 5},
    "laptop": {"active": 92, "repair": 4, "retired": 4},
    "document_camera": {"active": 93, "repair": 3, "in_stock": 2, "retired": 2},
    "desktop": {"active": 97, "repair": 3},
    "printer": {"active": 94, "repair": 6},
}
STATUS_NOTES = {
    "repair": "Reparatur beim Hersteller, RMA {n:06d}",
    "in_stock": "Reserve, originalverpackt",
    "ordered": "Bestellung B-2024-{n:04d}, Lieferung erwartet",
}
