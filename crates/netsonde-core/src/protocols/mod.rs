//! The one list of protocols: identity (stable id, nDPI-compatible name, category), the
//! dissectors that recognise them, and the attributes they extract. `netsonde protocols`
//! and the docs are generated from here.
//!
//! Adding a protocol: a file (or folder) in this directory with its `DISSECTOR` and `ATTRS`,
//! one line in `protocols!` below, one in [`DISSECTORS`] and one in [`attributes`].

pub mod activision;
pub mod ajp;
pub mod alicloud;
pub mod amqp;
#[cfg(test)]
mod any_port_tests;
pub mod atg;
pub mod avast;
pub mod avast_securedns;
pub mod bacnet;
pub mod beckhoff_ads;
pub mod ber;
pub mod bfcp;
pub mod bfd;
pub mod bgp;
pub mod bitcoin;
pub mod bittorrent;
pub mod bjnp;
pub mod c1222;
pub mod c37118;
pub mod ceph;
pub mod checkmk;
pub mod citrix;
pub mod cnp_ip;
pub mod collectd;
pub mod corba;
pub mod cpha;
pub mod crynet;
pub mod dcerpc;
pub mod dcerpc_co;
pub mod dhcp;
pub mod dhcpv6;
pub mod diameter;
pub mod discord;
pub mod dlep;
pub mod dnp3;
pub mod dns;
pub mod dnscrypt;
pub mod drda;
pub mod dropbox;
pub mod dtls;
pub mod edonkey;
pub mod egd;
pub mod elasticsearch;
pub mod epicgames;
pub mod ethereum;
pub mod ethernet_ip;
pub mod ethersbus;
pub mod ethersio;
pub mod fins;
pub mod fix;
pub mod flute;
pub mod ftp;
pub mod gaijin;
pub mod genshin_impact;
pub mod git;
pub mod gnutella;
pub mod gtp;
pub mod h323;
pub mod halflife2;
pub mod haproxy;
#[cfg(test)]
pub mod harness;
pub mod hart_ip;
pub mod hislip;
pub mod hots;
pub mod hsrp;
pub mod http;
pub mod http2;
pub mod i3d;
pub mod iec60870;
pub mod ike;
pub mod imo;
pub mod irc;
pub mod kcp;
pub mod kerberos;
pub mod kismet;
pub mod knxnet_ip;
pub mod ldap;
pub mod ldp;
pub mod line_call;
pub mod lines;
pub mod lisp;
pub mod lustre;
pub mod mail;
pub mod maplestory;
pub mod memcached;
pub mod merakicloud;
pub mod mining;
pub mod modbus;
pub mod monero;
pub mod mongodb;
pub mod mpegts;
pub mod mqtt;
pub mod mssql;
pub mod mumble;
pub mod munin;
pub mod mysql;
pub mod nat_pmp;
pub mod nats;
pub mod nest_log_sink;
pub mod netbios;
pub mod netease_games;
pub mod netflow;
pub mod nfs;
pub mod nomachine;
pub mod ntp;
pub mod oicq;
#[cfg(test)]
mod one_sided_tests;
pub mod opcua;
pub mod openvpn;
pub mod openwire;
pub mod oracle;
pub mod pfcp;
pub mod postgres;
pub mod pptp;
pub mod ptpv2;
pub mod quic;
pub mod radius;
pub mod radmin;
pub mod raft;
pub mod raknet;
pub mod rdp;
pub mod redis;
pub mod ripe_atlas;
pub mod rmcp;
pub mod roughtime;
pub mod rsh;
pub mod rsync;
pub mod rtp;
pub mod rtsp;
pub mod s7comm;
pub mod sd_rtn;
pub mod sflow;
pub mod sip;
pub mod skinny;
pub mod slp;
pub mod smb;
pub mod smpp;
pub mod snmp;
pub mod socks;
pub mod softether;
pub mod someip;
pub mod source_engine;
pub mod spotify;
pub mod ssdp;
pub mod ssh;
pub mod starcraft;
pub mod steam;
pub mod stomp;
pub mod stun;
pub mod syncthing;
pub mod syslog;
pub mod tailscale;
pub mod teamspeak;
pub mod teamviewer;
pub mod telnet;
pub mod teso;
pub mod thrift;
pub mod tls;
pub mod tplink_shp;
pub mod trdp;
#[cfg(test)]
mod tunnel_tests;
pub mod tuya_lp;
pub mod ubntac2;
pub mod uftp;
pub mod usenet;
pub mod viber;
pub mod vnc;
pub mod websocket;
pub mod whatsapp;
pub mod whois;
pub mod wire;
pub mod wireguard;
pub mod wow;
pub mod wsd;
pub mod xdmcp;
pub mod xiaomi;
pub mod xmpp;
pub mod yojimbo;
pub mod zabbix;
pub mod zoom;
pub mod zug;

use std::sync::OnceLock;

use crate::classify::ProtoId;
use crate::metadata::AttrSpec;

pub use crate::classify::{DissectorState, Inspect, Verdict};

/// The transports a dissector reads.
#[derive(Clone, Copy, Debug)]
pub struct Transports(u8);

impl Transports {
    pub const TCP: Transports = Transports(1);
    pub const UDP: Transports = Transports(2);
    pub const TCP_UDP: Transports = Transports(3);

    pub fn contains(self, l4: u8) -> bool {
        match l4 {
            6 => self.0 & 1 != 0,
            17 => self.0 & 2 != 0,
            _ => false,
        }
    }
}

/// A dissector: recognises a protocol in payloads and extracts its metadata.
pub struct Dissector {
    pub proto: ProtoId,
    pub transports: Transports,
    /// Ports that put this dissector first in line (a hint, never a verdict).
    pub tcp_ports: &'static [u16],
    pub udp_ports: &'static [u16],
    pub inspect: fn(&mut Inspect<'_>, &mut DissectorState<'_>) -> Verdict,
}

/// A protocol's identity.
#[derive(Debug)]
pub struct ProtocolInfo {
    pub id: ProtoId,
    /// nDPI's spelling where nDPI knows the protocol.
    pub name: &'static str,
    /// nDPI's category name.
    pub category: &'static str,
    /// IP protocol number, for protocols recognised by it alone (ICMP, IGMP, ESP, …).
    pub ip_proto: Option<u8>,
    /// The protocol's well-known ports: IANA's assignment to its service, else the default
    /// its implementations document. They name a flow that no payload could name, as a
    /// guess ("Match by port", see [`guess_by_port`]); a port names one protocol at most.
    pub tcp_ports: &'static [u16],
    pub udp_ports: &'static [u16],
}

macro_rules! protocols {
    ($( $id:ident = $num:literal, $name:literal, $cat:literal $(, ip = $ipp:literal)?
        $(, tcp = [$($tcp:literal),*])? $(, udp = [$($udp:literal),*])?; )*) => {
        /// Protocol ids, stable across versions.
        pub mod id {
            use crate::classify::ProtoId;
            $( pub const $id: ProtoId = ProtoId($num); )*
        }
        /// Every protocol netsonde knows.
        pub static PROTOCOLS: &[ProtocolInfo] = &[
            $( ProtocolInfo {
                id: id::$id,
                name: $name,
                category: $cat,
                ip_proto: protocols!(@ip $($ipp)?),
                tcp_ports: &[$($($tcp),*)?],
                udp_ports: &[$($($udp),*)?],
            }, )*
        ];
    };
    (@ip) => { None };
    (@ip $v:literal) => { Some($v) };
}

protocols! {
    HTTP = 7, "HTTP", "Web", tcp = [80];
    TLS = 91, "TLS", "Web", tcp = [443];
    SMTPS = 29, "SMTPS", "Email", tcp = [465];
    IMAPS = 51, "IMAPS", "Email", tcp = [993];
    POPS = 23, "POPS", "Email", tcp = [995];
    DNS = 5, "DNS", "Network", tcp = [53], udp = [53];
    MDNS = 8, "MDNS", "Network", udp = [5353];
    LLMNR = 154, "LLMNR", "Network", tcp = [5355], udp = [5355];
    QUIC = 188, "QUIC", "Web", udp = [443];
    ICMP = 81, "ICMP", "Network", ip = 1;
    IGMP = 82, "IGMP", "Network", ip = 2;
    GRE = 80, "GRE", "Network", ip = 47;
    ESP = 79, "IPSec", "VPN", ip = 50, udp = [500, 4500];
    AH = 78, "AH", "VPN", ip = 51;
    ICMPV6 = 102, "ICMPV6", "Network", ip = 58;
    OSPF = 85, "OSPF", "Network", ip = 89;
    PIM = 87, "IP_PIM", "Network", ip = 103;
    VRRP = 73, "VRRP", "Network", ip = 112;
    SCTP = 86, "SCTP", "Network", ip = 132;
    IP_IN_IP = 84, "IP_in_IP", "Network", ip = 4;
    EGP = 83, "EGP", "Network", ip = 8;
    PGM = 296, "PGM", "Network", ip = 113;
    SLP = 347, "Service_Location_Protocol", "RPC", tcp = [427], udp = [427];
    OCSP = 63, "OCSP", "Network";
    WEBDAV = 376, "WebDAV", "Collaborative";
    MPEGDASH = 291, "MpegDash", "Media";
    IPP = 6, "IPP", "System", tcp = [631];
    SPOTIFY = 156, "Spotify", "Music";
    GNUTELLA = 35, "Gnutella", "Download", tcp = [6346];
    STUN = 478, "STUN", "Network", tcp = [3478], udp = [3478];
    SSDP = 12, "SSDP", "System", udp = [1900];
    NETBIOS = 10, "NetBIOS", "System", tcp = [139], udp = [137, 138];
    SMBV1 = 16, "SMBv1", "System";
    SMBV23 = 41, "SMBv23", "System", tcp = [445];
    DHCP = 18, "DHCP", "Network", udp = [67, 68];
    DHCPV6 = 103, "DHCPV6", "Network", udp = [546, 547];
    SIP = 100, "SIP", "VoIP", tcp = [5060], udp = [5060];
    RTP = 487, "RTP", "Media";
    RTCP = 165, "RTCP", "VoIP";
    SNMP = 14, "SNMP", "Network", udp = [161, 162];
    RADIUS = 146, "Radius", "Network", udp = [1812, 1813, 1645, 1646];
    SYSLOG = 17, "Syslog", "System", tcp = [601, 6514], udp = [514];
    NTP = 9, "NTP", "System", udp = [123];
    SSH = 92, "SSH", "RemoteAccess", tcp = [22];
    NFS = 11, "NFS", "DataTransfer", tcp = [2049], udp = [2049];
    SMTP = 3, "SMTP", "Email", tcp = [25, 587];
    POP3 = 2, "POP3", "Email", tcp = [110];
    IMAP = 4, "IMAP", "Email", tcp = [143];
    FTP_CONTROL = 1, "FTP_CONTROL", "Download", tcp = [21];
    FTP_DATA = 175, "FTP_DATA", "Download", tcp = [20];
    FTPS = 311, "FTPS", "Download";
    ETHEREUM = 354, "ETHEREUM", "Crypto_Currency", tcp = [30303], udp = [30303];
    ZABBIX = 248, "Zabbix", "Network", tcp = [10050, 10051];
    FIX = 230, "FIX", "RPC";
    MQTT = 222, "MQTT", "RPC", tcp = [1883];
    BITCOIN = 343, "BITCOIN", "Crypto_Currency", tcp = [8333];
    WIREGUARD = 206, "WireGuard", "VPN", udp = [51820];
    KERBEROS = 111, "Kerberos", "Network", tcp = [88], udp = [88];
    RTSP = 50, "RTSP", "Media", tcp = [554];
    JABBER = 67, "Jabber", "Web", tcp = [5222, 5269];
    TRUPHONE = 101, "TruPhone", "VoIP";
    IRC = 65, "IRC", "Chat", tcp = [194, 6667];
    TELNET = 77, "Telnet", "RemoteAccess", tcp = [23];
    BITTORRENT = 37, "BitTorrent", "Download", tcp = [6881], udp = [6881];
    OPENVPN = 159, "OpenVPN", "VPN", tcp = [1194], udp = [1194];
    RDP = 88, "RDP", "RemoteAccess", tcp = [3389], udp = [3389];
    LDAP = 112, "LDAP", "System", tcp = [389], udp = [389];
    MSSQL = 114, "MsSQL-TDS", "Database", tcp = [1433];
    SOCKS = 172, "SOCKS", "Web", tcp = [1080];
    ELASTICSEARCH = 330, "Elasticsearch", "System", tcp = [9300];
    MONGODB = 60, "MongoDB", "Database", tcp = [27017];
    WHATSAPP = 142, "WhatsApp", "Chat";
    DTLS = 30, "DTLS", "Web";
    DISCORD = 58, "Discord", "Collaborative";
    VIBER = 144, "Viber", "VoIP";
    H323 = 158, "H323", "VoIP", tcp = [1720], udp = [1719];
    CISCO_SKINNY = 164, "CiscoSkinny", "VoIP", tcp = [2000];
    TEAMSPEAK = 162, "TeamSpeak", "VoIP", udp = [9987];
    MUMBLE = 387, "Mumble", "VoIP", tcp = [64738], udp = [64738];
    ZOOM = 189, "Zoom", "Video";
    OICQ = 335, "OICQ", "Chat";
    SD_RTN = 171, "SD-RTN", "Media";
    DROPBOX = 121, "Dropbox", "Cloud", tcp = [17500], udp = [17500];
    AVAST_SECURE_DNS = 263, "AVASTSecureDNS", "Network";
    ALICLOUD = 306, "AliCloud", "Cloud";
    AVAST = 307, "AVAST", "Network";
    ZUG = 415, "ZUG", "Crypto_Currency";
    CRYNETWORK = 314, "CryNetwork", "Game";
    XIAOMI = 287, "Xiaomi", "Web";
    RIPE_ATLAS = 417, "RipeAtlas", "Network";
    SYNCTHING = 313, "Syncthing", "Download", tcp = [22000], udp = [21027];
    ROUGHTIME = 383, "Roughtime", "System", udp = [2002];
    COLLECTD = 298, "collectd", "System", udp = [25826];
    NAT_PMP = 312, "NAT-PMP", "Network", udp = [5351];
    MUNIN = 329, "Munin", "System", tcp = [4949];
    MONERO = 369, "Monero", "Crypto_Currency", tcp = [18080];
    MINING = 42, "Mining", "Mining";
    HISLIP = 372, "HiSLIP", "IoT-Scada", tcp = [4880];
    UFTP = 373, "UFTP", "Download";
    AMQP = 192, "AMQP", "RPC", tcp = [5672];
    TEAMVIEWER = 148, "TeamViewer", "RemoteAccess", tcp = [5938], udp = [5938];
    SOFTETHER = 290, "Softether", "VPN";
    USENET = 93, "Usenet", "Web", tcp = [119];
    VNC = 89, "VNC", "RemoteAccess", tcp = [5900];
    NATS = 68, "Nats", "RPC", tcp = [4222];
    POSTGRESQL = 19, "PostgreSQL", "Database", tcp = [5432];
    MYSQL = 20, "MySQL", "Database", tcp = [3306];
    NETFLOW = 128, "NetFlow", "Network", udp = [2055];
    THRIFT = 345, "Thrift", "RPC";
    LUSTRE = 425, "Lustre", "DataTransfer";
    RSH = 294, "RSH", "RemoteAccess", tcp = [514];
    RADMIN = 391, "Radmin", "RemoteAccess", tcp = [4899];
    NOMACHINE = 378, "NoMachine", "RemoteAccess";
    RAFT = 392, "Raft", "Network";
    SOURCE_ENGINE = 333, "Source_Engine", "Game", udp = [27015];
    RAKNET = 286, "RakNet", "Game";
    TUYA_LP = 331, "TuyaLP", "IoT-Scada";
    BJNP = 204, "BJNP", "System", udp = [8611, 8612];
    BACNET = 334, "BACnet", "IoT-Scada", udp = [47808];
    NEST_LOG_SINK = 43, "NestLogSink", "Cloud";
    UBNTAC2 = 31, "UBNTAC2", "Network", udp = [10001];
    TPLINK_SHP = 332, "TPLINK_SHP", "IoT-Scada";
    HSRP = 282, "HSRP", "Network", udp = [1985];
    GENSHIN_IMPACT = 257, "GenshinImpact", "Game";
    KCP = 385, "KCP", "Network";
    RMCP = 351, "RMCP", "System", udp = [623];
    SOMEIP = 229, "SOMEIP", "RPC", tcp = [30490], udp = [30490];
    ETHERNET_IP = 278, "EthernetIP", "Network", tcp = [44818], udp = [2222];
    HART_IP = 72, "HART-IP", "IoT-Scada", tcp = [5094], udp = [5094];
    FINS = 362, "FINS", "IoT-Scada", tcp = [9600], udp = [9600];
    TRDP = 424, "TRDP", "IoT-Scada", tcp = [17225], udp = [17224];
    BGP = 13, "BGP", "Network", tcp = [179];
    BFD = 401, "BFD", "Network", udp = [3784, 3785];
    LDP = 409, "LDP", "Network", tcp = [646], udp = [646];
    KNXNET_IP = 410, "KNXnet_IP", "IoT-Scada", tcp = [3671], udp = [3671];
    IEC60870 = 245, "IEC60870", "IoT-Scada", tcp = [2404];
    DNP3 = 244, "DNP3", "IoT-Scada", tcp = [20000], udp = [20000];
    DLEP = 400, "DLEP", "Network", tcp = [854], udp = [854];
    PTPV2 = 358, "PTPv2", "System", udp = [319, 320];
    LISP = 236, "LISP", "Cloud", udp = [4341, 4342];
    IEEE_C37118 = 367, "IEEE-C37118", "IoT-Scada", tcp = [4712], udp = [4713];
    WSD = 153, "WSD", "Network", udp = [3702];
    MODBUS = 44, "Modbus", "IoT-Scada", tcp = [502];
    UMAS = 364, "UMAS", "IoT-Scada";
    S7COMM = 249, "S7Comm", "IoT-Scada", tcp = [102];
    S7COMM_PLUS = 361, "S7CommPlus", "IoT-Scada";
    OPC_UA = 360, "OPC-UA", "IoT-Scada", tcp = [4840];
    BECKHOFF_ADS = 365, "BeckhoffADS", "IoT-Scada", tcp = [48898];
    ANSI_C1222 = 397, "ANSI_C1222", "IoT-Scada", tcp = [1153], udp = [1153];
    DCERPC = 370, "DCERPC", "RPC", tcp = [135];
    PROFINET_IO = 371, "PROFINET_IO", "IoT-Scada", udp = [34964];
    CNP_IP = 422, "CNP-IP", "IoT-Scada";
    ETHERSIO = 363, "EtherSIO", "IoT-Scada";
    ETHER_S_BUS = 368, "Ether-S-Bus", "IoT-Scada", udp = [5050];
    EGD = 149, "EthernetGlobalData", "IoT-Scada", udp = [18246];
    CPHA = 53, "CPHA", "Network";
    PFCP = 405, "PFCP", "Network", udp = [8805];
    GTP = 152, "GTP", "Network", udp = [2152];
    GTP_C = 272, "GTP_C", "Network", udp = [2123];
    DIAMETER = 237, "Diameter", "Network", tcp = [3868];
    SFLOW = 129, "sFlow", "Network", udp = [6343];
    FLUTE = 406, "FLUTE", "Download";
    MPEG_TS = 198, "MPEG_TS", "Media";
    YOJIMBO = 388, "Yojimbo", "Game";
    TESO = 408, "TES_Online", "Game";
    HOTS = 336, "Heroes_of_the_Storm", "Game";
    ACTIVISION = 258, "Activision", "Game";
    SRTP = 338, "SRTP", "Media";
    I3D = 301, "i3D", "Game";
    EPICGAMES = 340, "EpicGames", "Game";
    GAIJIN = 396, "GaijinEntertainment", "Game";
    IMO = 216, "IMO", "VoIP";
    DNSCRYPT = 208, "DNScrypt", "Network";
    WORLDOFWARCRAFT = 76, "WorldOfWarcraft", "Game";
    LINE_CALL = 316, "LineCall", "VoIP";
    NETEASE_GAMES = 402, "NetEaseGames", "Game";
    STEAM = 74, "Steam", "Game";
    STEAM_DATAGRAM_RELAY = 235, "SteamDatagramRelay", "Game";
    HTTP_CONNECT = 130, "HTTP_Connect", "Web";
    HTTP_PROXY = 131, "HTTP_Proxy", "Web", tcp = [8080, 3128];
    HTTP2 = 349, "HTTP2", "Web";
    HAPROXY = 350, "HAProxy", "Web";
    WEBSOCKET = 251, "WebSocket", "Web";
    AJP = 139, "AJP", "Web", tcp = [8009];
    BFCP = 32, "BFCP", "Video";
    CEPH = 381, "Ceph", "DataTransfer", tcp = [3300, 6789];
    CHECKMK = 138, "CHECKMK", "DataTransfer", tcp = [6556];
    CITRIX = 132, "Citrix", "Network", tcp = [1494, 2598];
    CORBA = 168, "Corba", "RPC", tcp = [683];
    DRDA = 227, "DRDA", "Database", tcp = [446];
    EDONKEY = 36, "eDonkey", "Download", tcp = [4662];
    GIT = 226, "Git", "Collaborative", tcp = [9418];
    KISMET = 309, "Kismet", "Network", tcp = [2501];
    MEMCACHED = 40, "Memcached", "Network", tcp = [11211], udp = [11211];
    REDIS = 182, "Redis", "Database", tcp = [6379];
    OPENWIRE = 421, "OpenWire", "RPC", tcp = [61616];
    ORACLE = 167, "Oracle", "Database", tcp = [1521];
    PPTP = 115, "PPTP", "VPN", tcp = [1723];
    RSYNC = 166, "RSYNC", "DataTransfer", tcp = [873];
    SMPP = 207, "SMPP", "Download", tcp = [2775];
    STOMP = 390, "STOMP", "RPC", tcp = [61613];
    XDMCP = 15, "XDMCP", "RemoteAccess", udp = [177];
    WHOIS_DAS = 170, "Whois-DAS", "Network", tcp = [43];
    // nDPI numbers MapleStory 113, taken here by PGM.
    MAPLESTORY = 113, "MapleStory", "Game";
    STARCRAFT = 213, "Starcraft", "Game", tcp = [1119], udp = [1119];
    HALFLIFE2 = 75, "HalfLife2", "Game";
    TAILSCALE = 24, "Tailscale", "VPN", udp = [41641];
    ATG = 423, "ATG", "IoT-Scada";
    MERAKI_CLOUD = 66, "MerakiCloud", "Network";
}

/// Every dissector, in the order they are tried when no port suggests one.
pub static DISSECTORS: &[&Dissector] = &[
    // Before HTTP: nDPI names the game patcher's requests MapleStory, not HTTP.
    &maplestory::DISSECTOR,
    &http::DISSECTOR,
    &http2::DISSECTOR,
    &haproxy::DISSECTOR,
    // Before DNS: its certificate exchange is a DNS query.
    &avast_securedns::DISSECTOR,
    &dns::DISSECTOR,
    &slp::DISSECTOR,
    &gnutella::DISSECTOR,
    &stun::DISSECTOR,
    &ssdp::DISSECTOR,
    &netbios::DISSECTOR,
    &dhcp::DISSECTOR,
    &dhcpv6::DISSECTOR,
    &sip::DISSECTOR,
    &snmp::DISSECTOR,
    &radius::DISSECTOR,
    &syslog::DISSECTOR,
    &ntp::DISSECTOR,
    &ssh::DISSECTOR,
    &nfs::DISSECTOR,
    &tls::DISSECTOR,
    &quic::DISSECTOR,
    &mail::smtp::DISSECTOR,
    &mail::pop3::DISSECTOR,
    &mail::imap::DISSECTOR,
    &ftp::DISSECTOR,
    &ftp::DATA_DISSECTOR,
    &ethereum::DISSECTOR,
    &zabbix::DISSECTOR,
    &fix::DISSECTOR,
    &mqtt::DISSECTOR,
    &bitcoin::DISSECTOR,
    &wireguard::DISSECTOR,
    &spotify::DISSECTOR,
    &ike::DISSECTOR,
    &kerberos::DISSECTOR,
    &rtsp::DISSECTOR,
    &xmpp::DISSECTOR,
    &irc::DISSECTOR,
    &telnet::DISSECTOR,
    &bittorrent::DISSECTOR,
    &openvpn::DISSECTOR,
    &rdp::DISSECTOR,
    &rdp::UDP_DISSECTOR,
    &smb::DISSECTOR,
    &ldap::DISSECTOR,
    &mssql::DISSECTOR,
    &socks::DISSECTOR,
    &elasticsearch::DISSECTOR,
    &mongodb::DISSECTOR,
    &whatsapp::DISSECTOR,
    &dtls::DISSECTOR,
    // Before Discord: i3D's relays use Discord's IP-discovery packet.
    &i3d::DISSECTOR,
    &discord::DISSECTOR,
    &viber::DISSECTOR,
    &h323::DISSECTOR,
    &skinny::DISSECTOR,
    &teamspeak::DISSECTOR,
    &mumble::DISSECTOR,
    &zoom::DISSECTOR,
    &oicq::DISSECTOR,
    &sd_rtn::DISSECTOR,
    &dropbox::DISSECTOR,
    &alicloud::DISSECTOR,
    &avast::DISSECTOR,
    &zug::DISSECTOR,
    &crynet::DISSECTOR,
    &xiaomi::DISSECTOR,
    &ripe_atlas::DISSECTOR,
    &syncthing::DISSECTOR,
    &roughtime::DISSECTOR,
    &collectd::DISSECTOR,
    &nat_pmp::DISSECTOR,
    &munin::DISSECTOR,
    &monero::DISSECTOR,
    &mining::DISSECTOR,
    &hislip::DISSECTOR,
    &uftp::DISSECTOR,
    &amqp::DISSECTOR,
    &teamviewer::DISSECTOR,
    &softether::DISSECTOR,
    &usenet::DISSECTOR,
    &vnc::DISSECTOR,
    &nats::DISSECTOR,
    &postgres::DISSECTOR,
    &mysql::DISSECTOR,
    &netflow::DISSECTOR,
    &thrift::DISSECTOR,
    &lustre::DISSECTOR,
    &rsh::DISSECTOR,
    &radmin::DISSECTOR,
    &nomachine::DISSECTOR,
    &raft::DISSECTOR,
    &halflife2::DISSECTOR,
    &source_engine::DISSECTOR,
    &raknet::DISSECTOR,
    &tuya_lp::DISSECTOR,
    &bjnp::DISSECTOR,
    &bacnet::DISSECTOR,
    &nest_log_sink::DISSECTOR,
    &ubntac2::DISSECTOR,
    &tplink_shp::DISSECTOR,
    &hsrp::DISSECTOR,
    &genshin_impact::DISSECTOR,
    &kcp::DISSECTOR,
    &rmcp::DISSECTOR,
    &someip::DISSECTOR,
    &ethernet_ip::DISSECTOR,
    &hart_ip::DISSECTOR,
    &fins::DISSECTOR,
    &trdp::DISSECTOR,
    &bgp::DISSECTOR,
    &bfd::DISSECTOR,
    &ldp::DISSECTOR,
    &knxnet_ip::DISSECTOR,
    &iec60870::DISSECTOR,
    &dnp3::DISSECTOR,
    &dlep::DISSECTOR,
    &ptpv2::DISSECTOR,
    &lisp::DISSECTOR,
    &c37118::DISSECTOR,
    &wsd::DISSECTOR,
    &modbus::DISSECTOR,
    &s7comm::DISSECTOR,
    &opcua::DISSECTOR,
    &beckhoff_ads::DISSECTOR,
    &c1222::DISSECTOR,
    &diameter::DISSECTOR,
    &dcerpc::DISSECTOR,
    &dcerpc_co::DISSECTOR,
    &cnp_ip::DISSECTOR,
    &ethersio::DISSECTOR,
    &ethersbus::DISSECTOR,
    &egd::DISSECTOR,
    &cpha::DISSECTOR,
    &pfcp::DISSECTOR,
    &gtp::DISSECTOR,
    &sflow::DISSECTOR,
    &flute::DISSECTOR,
    &mpegts::DISSECTOR,
    &yojimbo::DISSECTOR,
    &teso::DISSECTOR,
    &hots::DISSECTOR,
    &activision::DISSECTOR,
    &epicgames::DISSECTOR,
    &gaijin::DISSECTOR,
    &imo::DISSECTOR,
    &dnscrypt::DISSECTOR,
    &wow::DISSECTOR,
    &line_call::DISSECTOR,
    &netease_games::DISSECTOR,
    &steam::DISSECTOR,
    &tailscale::DISSECTOR,
    &atg::DISSECTOR,
    &merakicloud::DISSECTOR,
    // Late: two-byte frame headers; it needs both directions' first payloads.
    &websocket::DISSECTOR,
    &ajp::DISSECTOR,
    &bfcp::DISSECTOR,
    &ceph::DISSECTOR,
    &checkmk::DISSECTOR,
    &citrix::DISSECTOR,
    &corba::DISSECTOR,
    &drda::DISSECTOR,
    &edonkey::DISSECTOR,
    &git::DISSECTOR,
    &kismet::DISSECTOR,
    &memcached::DISSECTOR,
    &redis::DISSECTOR,
    &openwire::DISSECTOR,
    &oracle::DISSECTOR,
    &pptp::DISSECTOR,
    &rsync::DISSECTOR,
    &smpp::DISSECTOR,
    &stomp::DISSECTOR,
    &xdmcp::DISSECTOR,
    &whois::DISSECTOR,
    &starcraft::DISSECTOR,
    // Last: RTP confirms only on a second packet and must not shadow the others.
    &rtp::DISSECTOR,
];

/// Every attribute any protocol extracts.
pub fn attributes() -> Vec<&'static AttrSpec> {
    [
        http::ATTRS,
        dns::ATTRS,
        slp::ATTRS,
        gnutella::ATTRS,
        stun::ATTRS,
        ssdp::ATTRS,
        netbios::ATTRS,
        dhcp::ATTRS,
        dhcpv6::ATTRS,
        sip::ATTRS,
        rtp::ATTRS,
        snmp::ATTRS,
        radius::ATTRS,
        syslog::ATTRS,
        ntp::ATTRS,
        ssh::ATTRS,
        nfs::ATTRS,
        tls::ATTRS,
        quic::ATTRS,
        mail::ATTRS,
        mail::smtp::ATTRS,
        mail::pop3::ATTRS,
        mail::imap::ATTRS,
        ftp::ATTRS,
        ethereum::ATTRS,
        zabbix::ATTRS,
        fix::ATTRS,
        mqtt::ATTRS,
        bitcoin::ATTRS,
        wireguard::ATTRS,
        spotify::ATTRS,
        ike::ATTRS,
        kerberos::ATTRS,
        rtsp::ATTRS,
        xmpp::ATTRS,
        irc::ATTRS,
        telnet::ATTRS,
        bittorrent::ATTRS,
        openvpn::ATTRS,
        rdp::ATTRS,
        smb::ATTRS,
        ldap::ATTRS,
        mssql::ATTRS,
        socks::ATTRS,
        elasticsearch::ATTRS,
        mongodb::ATTRS,
        whatsapp::ATTRS,
        dtls::ATTRS,
        discord::ATTRS,
        viber::ATTRS,
        h323::ATTRS,
        skinny::ATTRS,
        teamspeak::ATTRS,
        mumble::ATTRS,
        zoom::ATTRS,
        oicq::ATTRS,
        sd_rtn::ATTRS,
        dropbox::ATTRS,
        avast_securedns::ATTRS,
        alicloud::ATTRS,
        avast::ATTRS,
        zug::ATTRS,
        crynet::ATTRS,
        xiaomi::ATTRS,
        ripe_atlas::ATTRS,
        syncthing::ATTRS,
        roughtime::ATTRS,
        collectd::ATTRS,
        nat_pmp::ATTRS,
        munin::ATTRS,
        monero::ATTRS,
        mining::ATTRS,
        hislip::ATTRS,
        uftp::ATTRS,
        amqp::ATTRS,
        teamviewer::ATTRS,
        softether::ATTRS,
        usenet::ATTRS,
        vnc::ATTRS,
        nats::ATTRS,
        postgres::ATTRS,
        mysql::ATTRS,
        netflow::ATTRS,
        thrift::ATTRS,
        lustre::ATTRS,
        rsh::ATTRS,
        radmin::ATTRS,
        nomachine::ATTRS,
        raft::ATTRS,
        yojimbo::ATTRS,
        teso::ATTRS,
        hots::ATTRS,
        activision::ATTRS,
        i3d::ATTRS,
        epicgames::ATTRS,
        gaijin::ATTRS,
        imo::ATTRS,
        dnscrypt::ATTRS,
        wow::ATTRS,
        line_call::ATTRS,
        netease_games::ATTRS,
        steam::ATTRS,
        ajp::ATTRS,
        bfcp::ATTRS,
        ceph::ATTRS,
        checkmk::ATTRS,
        citrix::ATTRS,
        corba::ATTRS,
        drda::ATTRS,
        edonkey::ATTRS,
        git::ATTRS,
        kismet::ATTRS,
        memcached::ATTRS,
        redis::ATTRS,
        dcerpc_co::ATTRS,
        openwire::ATTRS,
        oracle::ATTRS,
        pptp::ATTRS,
        rsync::ATTRS,
        smpp::ATTRS,
        stomp::ATTRS,
        xdmcp::ATTRS,
        whois::ATTRS,
        maplestory::ATTRS,
        starcraft::ATTRS,
        halflife2::ATTRS,
        dnp3::ATTRS,
    ]
    .concat()
}

/// Every event any protocol (or the engine) produces.
pub fn events() -> Vec<&'static crate::metadata::EventSpec> {
    let mut all: Vec<&'static crate::metadata::EventSpec> =
        vec![&crate::classify::FLOW_CLASSIFIED, &FLOW_END];
    all.extend_from_slice(http::EVENTS);
    all.extend_from_slice(dns::EVENTS);
    all.extend_from_slice(mysql::EVENTS);
    all.extend_from_slice(dnp3::EVENTS);
    all.extend_from_slice(redis::EVENTS);
    all
}

crate::events! {
    pub FLOW_END = "flow.end", "A flow ended (its record is the event)", [];
}

/// Per-flow state of the confirmed protocol's dissector.
#[derive(Default)]
pub enum ProtoState {
    #[default]
    None,
    Http(http::State),
    Quic(Box<quic::State>),
    Tls(Box<tls::State>),
    Dtls(Box<dtls::State>),
    /// STUN confirmed: later packets may be media or TURN channel data.
    /// The DTLS handshake of the media the checks set up, once seen, is read for its
    /// metadata.
    Stun(stun::State, Option<Box<dtls::State>>),
    Rtp(rtp::State),
    Ssh(ssh::State),
    Smtp(mail::smtp::State),
    Pop3(mail::pop3::State),
    Imap(mail::imap::State),
    Ftp(ftp::State),
    Rtsp(rtsp::State),
    Xmpp(xmpp::State),
    Irc(irc::State),
    Telnet(telnet::State),
    Rdp(rdp::State),
    Smb(smb::State),
    Mysql(Box<mysql::State>),
    Dnp3(dnp3::State),
    Redis(Box<redis::State>),
    /// DCE/RPC over TCP confirmed: the PDUs read so far.
    DceRpc(u16),
    Socks(socks::State),
}

pub fn info(id: ProtoId) -> Option<&'static ProtocolInfo> {
    PROTOCOLS.iter().find(|p| p.id == id)
}

pub fn name(id: ProtoId) -> &'static str {
    info(id).map_or("Unknown", |p| p.name)
}

pub fn category(id: ProtoId) -> &'static str {
    info(id).map_or("Unknown", |p| p.category)
}

/// Protocols whose category an application riding on them does not change: resolving a
/// name is network plumbing, not use of the application (nDPI reports "DNS.YouTube" in
/// "Network").
pub const KEEP_CATEGORY: &[ProtoId] = &[id::DNS];

/// Media protocols of a call: its flows share the local endpoint, so an application
/// recognised on one of them (STUN attributes, the TURN realm) names the others.
pub const CALL_MEDIA: &[ProtoId] = &[id::STUN, id::DTLS, id::RTP, id::RTCP, id::SRTP];

/// The protocol recognised by an IP protocol number alone, if any.
pub fn by_ip_proto(ip_proto: u8) -> Option<ProtoId> {
    PROTOCOLS
        .iter()
        .find(|p| p.ip_proto == Some(ip_proto))
        .map(|p| p.id)
}

/// The protocol whose well-known port (see [`ProtocolInfo::tcp_ports`]) `port` is on
/// transport `l4` (6 or 17), if any.
pub fn by_well_known_port(l4: u8, port: u16) -> Option<ProtoId> {
    static BY_PORT: OnceLock<Vec<(u8, u16, ProtoId)>> = OnceLock::new();
    let table = BY_PORT.get_or_init(|| {
        let mut table: Vec<(u8, u16, ProtoId)> = PROTOCOLS
            .iter()
            .flat_map(|p| {
                let tcp = p.tcp_ports.iter().map(move |&port| (6, port, p.id));
                tcp.chain(p.udp_ports.iter().map(move |&port| (17, port, p.id)))
            })
            .collect();
        table.sort_unstable();
        table
    });
    let at = table.partition_point(|&(t, p, _)| (t, p) < (l4, port));
    table
        .get(at)
        .filter(|&&(t, p, _)| (t, p) == (l4, port))
        .map(|&(_, _, id)| id)
}

/// A guess for a flow no payload could name: the protocol of its server's well-known port,
/// else of its client's (an active FTP data connection comes from port 20).
pub fn guess_by_port(l4: u8, server_port: u16, client_port: u16) -> Option<ProtoId> {
    by_well_known_port(l4, server_port).or_else(|| by_well_known_port(l4, client_port))
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;

    #[test]
    fn a_well_known_port_names_one_protocol_at_most() {
        let mut seen = std::collections::HashMap::new();
        for p in PROTOCOLS {
            let ports = p.tcp_ports.iter().map(|&n| (6, n));
            for key in ports.chain(p.udp_ports.iter().map(|&n| (17, n))) {
                if let Some(other) = seen.insert(key, p.name) {
                    panic!("{key:?} is the port of both {other} and {}", p.name);
                }
            }
        }
        assert!(seen.len() > 150, "the registry names well-known ports");
    }

    #[test]
    fn guesses_go_by_the_server_port_then_the_client_port() {
        assert_eq!(guess_by_port(6, 80, 51000), Some(id::HTTP));
        assert_eq!(guess_by_port(17, 443, 51000), Some(id::QUIC));
        assert_eq!(guess_by_port(6, 443, 51000), Some(id::TLS));
        // Active FTP: the server connects from port 20 to the client's port.
        assert_eq!(guess_by_port(6, 51000, 20), Some(id::FTP_DATA));
        assert_eq!(guess_by_port(6, 445, 137), Some(id::SMBV23));
        // 514 is rsh over TCP and syslog over UDP.
        assert_eq!(guess_by_port(6, 514, 40000), Some(id::RSH));
        assert_eq!(guess_by_port(17, 514, 40000), Some(id::SYSLOG));
        assert_eq!(guess_by_port(6, 40000, 51000), None);
        assert_eq!(guess_by_port(1, 80, 80), None);
    }

    #[test]
    fn ids_and_names_are_unique_and_attributes_well_named() {
        let mut ids: Vec<u16> = PROTOCOLS.iter().map(|p| p.id.0).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), PROTOCOLS.len());
        let mut names: Vec<&str> = PROTOCOLS.iter().map(|p| p.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), PROTOCOLS.len());
        let attrs = attributes();
        for a in &attrs {
            let (proto, attr) = a.name.split_once('.').expect("protocol.attribute");
            assert!(!proto.is_empty() && !attr.is_empty(), "{}", a.name);
            assert!(a
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.'));
            assert!(!a.doc.is_empty());
        }
        let mut names: Vec<&str> = attrs.iter().map(|a| a.name).collect();
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n, "attribute declared twice");
        for d in DISSECTORS {
            assert!(
                info(d.proto).is_some(),
                "dissector for an undeclared protocol"
            );
        }
    }

    /// A cheap stand-in for the fuzz targets in `cargo test`: random and mutated payloads
    /// through the dispatcher and every dissector, on both transports, must not panic
    /// (debug builds also check arithmetic overflow).
    #[test]
    fn dissectors_survive_random_flows() {
        use crate::classify::{candidate_order, Dir, Dpi, FlowFacts, SignatureSet};
        let sigs = SignatureSet::builtin();
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        // Valid-looking openings, mutated below, so parsers get past their first checks.
        let seeds: [&[u8]; 8] = [
            b"SSH-2.0-OpenSSH_8.2\r\n\x00\x00\x01\x0c\x0a\x14",
            b"\x00\x01\x00\x08\x21\x12\xa4\x42abcdefghijkl\x00\x03\x00\x04\x00\x00\x00\x00",
            b"\x02\x01\x00\x00\x1d\x00\x00\x00\x00\x00\x12\x34\x00\x02en\x00\x00",
            b"GNUTELLA CONNECT/0.6\r\nUser-Agent: x\r\n\r\n",
            b"\x80\x08\x00\x01\x00\x00\x00\x00\x12\x34\x56\x78",
            b"\x81\x00\x00\x44\x20EOEFEEEJFCEDEPEN",
            b"INVITE sip:a@b SIP/2.0\r\nFrom: a\r\n\r\n",
            b"\x30\x26\x02\x01\x01\x04\x06public\xa0\x19",
        ];
        for round in 0..3000u32 {
            let l4 = if round % 2 == 0 { 17 } else { 6 };
            let ports = [
                (next() % 65536) as u16,
                [
                    22, 137, 138, 139, 3478, 5060, 427, 123, 161, 1812, 514, 67, 547, 1900, 2049,
                    6346,
                ][round as usize % 16],
            ];
            let facts = FlowFacts {
                l4,
                client_port: ports[0],
                server_port: ports[1],
                ip_version: 4,
                client_ip: [10; 16],
                server_ip: [20; 16],
            };
            let mut dpi = Dpi::new(candidate_order(DISSECTORS, l4, ports));
            let mut seq = [1u32, 1u32];
            for pkt in 0..6 {
                let seed = seeds[(next() % seeds.len() as u64) as usize];
                let mut p: Vec<u8> = seed.to_vec();
                let extra = (next() % 300) as usize;
                p.extend((0..extra).map(|_| next() as u8));
                for _ in 0..(next() % 6) {
                    let i = (next() as usize) % p.len();
                    p[i] = next() as u8;
                }
                if next() % 4 == 0 {
                    p.truncate((next() as usize) % (p.len() + 1));
                }
                let dir = if (next() + pkt) % 2 == 0 {
                    Dir::ToServer
                } else {
                    Dir::ToClient
                };
                let d = dir as usize;
                let tcp = (l4 == 6).then(|| {
                    let s = seq[d];
                    seq[d] = s.wrapping_add(p.len() as u32);
                    (s, 0x18)
                });
                if !dpi.inspect(
                    &p,
                    dir,
                    facts,
                    tcp,
                    i64::from(pkt as u32),
                    &sigs,
                    DISSECTORS,
                    &mut crate::metadata::EventSink::silent(&mut Vec::new()),
                ) {
                    break;
                }
            }
        }
    }
}
