"""The school in a box: simulated devices of one school network, each on its own 127.0.0.x address.

Router with ARP tables, managed switch with a dot1q FDB, an old dot1d switch, an access point, a printer, a Windows
OPS PC, an SNMPv3-only switch, a host whose sysDescr is not UTF-8 and a router with a 5,000-row table.
"""

from tests.snmplab import GAUGE, HEX, INTEGER, OCTETS, Agent, interfaces, mac_hex, mac_index, system

ROUTER, SWITCH, LEGACY, AP, PRINTER, OPS, V3_SWITCH, LATIN1, BIG = (f"127.0.0.{n}" for n in range(121, 130))
STACK = "127.0.0.131"
STACK_MACS = tuple(f"00:1b:54:00:00:{n:02x}" for n in range(1, 21))

PC, PHONE, BOARD = "b4:ad:a3:01:02:03", "3c:22:fb:44:55:66", "00:02:75:aa:bb:cc"


def router() -> Agent:
    physical = "1.3.6.1.2.1.4.35.1.4"
    media = "1.3.6.1.2.1.4.22.1.2"
    rows = system("RouterOS CHR 7.14", "1.3.6.1.4.1.14988.1", "gw-schule") + interfaces(["4c:5e:0c:11:22:33"])
    rows += [
        (f"{physical}.1.1.4.10.0.0.5", HEX, mac_hex(PC)),
        (f"{physical}.1.1.4.10.0.0.6", HEX, ""),  # an incomplete entry
        (f"{physical}.1.2.16.254.128.0.0.0.0.0.0.0.0.0.0.0.0.0.1", HEX, mac_hex(PHONE)),
        (f"{media}.1.10.0.0.5", HEX, mac_hex(PC)),
        (f"{media}.1.10.0.0.7", HEX, mac_hex(BOARD)),
    ]
    return Agent(ROUTER, tuple(rows))


def switch() -> Agent:
    fdb = "1.3.6.1.2.1.17.7.1.2.2.1.2"
    rows = system("HPE OfficeConnect Switch 1920S 24G", "1.3.6.1.4.1.11.2.3.7.11.1", "sw-a")
    rows += interfaces(["70:10:6f:00:00:01", "70:10:6f:00:00:02", "70:10:6f:00:00:03"], ["CPU", "1/0/1", "1/0/2"])
    rows += [
        ("1.3.6.1.2.1.17.1.4.1.2.1", INTEGER, "2"),  # bridge port 1 is ifIndex 2
        ("1.3.6.1.2.1.17.1.4.1.2.2", INTEGER, "3"),
        (f"{fdb}.1.{mac_index(PC)}", INTEGER, "1"),
        (f"{fdb}.10.{mac_index(PC)}", INTEGER, "1"),  # the same MAC in a second VLAN
        (f"{fdb}.10.{mac_index(BOARD)}", INTEGER, "2"),
        (f"{fdb}.1.{mac_index('70:10:6f:00:00:01')}", INTEGER, "0"),  # the switch itself
        (f"1.3.6.1.2.1.17.4.3.1.2.{mac_index(PHONE)}", INTEGER, "2"),  # ignored: dot1q is there
        ("1.3.6.1.2.1.47.1.1.1.1.11.1", OCTETS, "CN12345678"),
        ("1.3.6.1.2.1.47.1.1.1.1.13.1", OCTETS, "JL381A"),
    ]
    return Agent(SWITCH, tuple(rows))


def legacy_switch() -> Agent:
    rows = system("3Com Baseline Switch 2226", "1.3.6.1.4.1.43.1.16.4.3.42", "sw-alt")
    rows += [
        ("1.3.6.1.2.1.2.2.1.2.5", OCTETS, "Port 5"),
        ("1.3.6.1.2.1.17.1.4.1.2.5", INTEGER, "5"),
        (f"1.3.6.1.2.1.17.4.3.1.2.{mac_index(PHONE)}", INTEGER, "5"),
        (f"1.3.6.1.2.1.17.4.3.1.2.{mac_index(PC)}", INTEGER, "7"),  # a bridge port with no ifIndex
    ]
    return Agent(LEGACY, tuple(rows))


def access_point() -> Agent:
    rows = system("UAP-AC-Pro-Gen2 6.6.55.15189", "1.3.6.1.4.1.8072.3.2.10", "ap-raum-101", "Raum 101")
    return Agent(AP, tuple(rows + interfaces(["", "78:8a:20:aa:bb:cc"], ["lo", "eth0"])))


def printer() -> Agent:
    rows = system("Brother NC-8300h, Firmware Ver.1.10", "1.3.6.1.4.1.2435.2.3.9.1", "BRN008077123456")
    rows += [("1.3.6.1.2.1.43.5.1.1.17.1", OCTETS, "E78123A4N123456"),
             ("1.3.6.1.2.1.25.3.2.1.3.1", OCTETS, "Brother HL-L8360CDW series")]
    return Agent(PRINTER, tuple(rows + interfaces(["00:80:77:12:34:56"])))


def ops_pc() -> Agent:
    descr = ("Hardware: Intel64 Family 6 Model 154 Stepping 3 AT/AT COMPATIBLE - Software: Windows Version 6.3 "
             "(Build 22631 Multiprocessor Free)")
    rows = system(descr, "1.3.6.1.4.1.311.1.1.3.1.1", "OPS-R101")
    # a loopback, the LAN port twice (two logical interfaces), a tunnel with an all-zero address
    return Agent(OPS, tuple(rows + interfaces(["", PC, PC, "00:00:00:00:00:00"])))


def v3_switch() -> Agent:
    rows = system("Cisco IOS Software, C2960X Software, Version 15.2(7)E8", "1.3.6.1.4.1.9.1.1208", "sw-core")
    rows += [("1.3.6.1.2.1.47.1.1.1.1.11.1001", OCTETS, "FOC1234X0AB")]
    return Agent(V3_SWITCH, tuple(rows), v3_user="admin", v3_auth_key="authkey123", v3_priv_key="privkey123")


def latin1_host() -> Agent:
    return Agent(LATIN1, tuple(system(b"Drucker B\xfcro 2. OG \xff", "1.3.6.1.4.1.99999", "drucker")))


def big_router() -> Agent:
    rows = system("Linux gw-gross 6.1.0", "1.3.6.1.4.1.8072.3.2.10", "gw-gross")
    rows += [(f"1.3.6.1.2.1.4.22.1.2.1.10.1.{n // 250}.{n % 250 + 1}", HEX, f"0050560{n:05x}") for n in range(5000)]
    rows += [("1.3.6.1.2.1.4.31.1.1.3.1", GAUGE, "5000")]  # something after the table, as on a real agent
    return Agent(BIG, tuple(rows))


def stack_switch() -> Agent:
    """Twenty ports and two stack members: longer columns than one GETBULK page."""
    rows = system("Cisco IOS Software, C3850 Software", "1.3.6.1.4.1.9.1.1745", "sw-stack")
    rows += interfaces(list(STACK_MACS), [f"Gi1/0/{n}" for n in range(1, 21)])
    rows += [(f"1.3.6.1.2.1.47.1.1.1.1.11.{n}", OCTETS, f"FOC20{n:02d}X1Y2") for n in (1000, 2000)]
    rows += [(f"1.3.6.1.2.1.47.1.1.1.1.13.{n}", OCTETS, "WS-C3850-24T") for n in (1000, 2000)]
    return Agent(STACK, tuple(rows))


def every_agent() -> list[Agent]:
    """The whole school, for one snmpsim process."""
    return [router(), switch(), legacy_switch(), access_point(), printer(), ops_pc(), v3_switch(), latin1_host(),
            big_router(), stack_switch()]
