"""DNS discovery against a real DNS server on loopback (dnslib), never a mocked resolver."""

from __future__ import annotations

import time

import pytest
from cluster_support import Zone, dead_url, dns_server, serve_fleet, srv

import frankenws
from frankenws._discovery import Discovery
from frankenws.testing import FakeFrankenPHP


def test_a_and_aaaa_records_are_nodes():
    zone = Zone()
    zone.set("admin.prod.svc", "A", ["10.0.0.6", "10.0.0.5"])
    zone.set("admin.prod.svc", "AAAA", ["fd00::7"])
    with dns_server(zone) as ns:
        found = Discovery("dns+a://admin.prod.svc:2019", nameservers=[ns]).resolve()
    assert found == ["http://10.0.0.5:2019", "http://10.0.0.6:2019", "http://[fd00::7]:2019"]


def test_only_aaaa_records_and_https():
    zone = Zone()
    zone.set("v6.svc", "AAAA", ["fd00::1"])
    with dns_server(zone) as ns:
        found = Discovery("dns+a://v6.svc:2019?scheme=https", nameservers=[ns]).resolve()
    assert found == ["https://[fd00::1]:2019"]


def test_srv_records_give_targets_and_ports():
    zone = Zone()
    zone.set("_admin._tcp.fp.svc", "SRV", [srv(2019, "n1.fp.svc."), srv(2020, "n2.fp.svc.")])
    zone.set("n1.fp.svc", "A", ["10.1.0.1"])
    zone.set("n2.fp.svc", "A", ["10.1.0.2", "10.1.0.3"])
    with dns_server(zone) as ns:
        found = Discovery("dns+srv://_admin._tcp.fp.svc", nameservers=[ns]).resolve()
    assert found == ["http://10.1.0.1:2019", "http://10.1.0.2:2020", "http://10.1.0.3:2020"]


def test_srv_target_without_address_is_kept_as_a_name():
    zone = Zone()
    zone.set("_admin._tcp.ext.svc", "SRV", [srv(2019, "elsewhere.example.")])
    with dns_server(zone) as ns:
        found = Discovery("dns+srv://_admin._tcp.ext.svc", nameservers=[ns]).resolve()
    assert found == ["http://elsewhere.example:2019"]


def test_ttl_is_honoured_and_a_changed_record_set_is_seen():
    zone = Zone()
    zone.set("web.svc", "A", ["10.0.0.1", "10.0.0.2"], ttl=1)
    with dns_server(zone) as ns:
        discovery = Discovery("dns+a://web.svc:2019", nameservers=[ns])
        assert discovery.resolve() == ["http://10.0.0.1:2019", "http://10.0.0.2:2019"]
        asked = len(zone.queries)
        zone.set("web.svc", "A", ["10.0.0.2", "10.0.0.3"], ttl=1)
        # Within the TTL the answer is reused without asking DNS.
        assert discovery.resolve() == ["http://10.0.0.1:2019", "http://10.0.0.2:2019"]
        assert len(zone.queries) == asked
        # force=True asks now.
        assert discovery.resolve(force=True) == ["http://10.0.0.2:2019", "http://10.0.0.3:2019"]
        zone.set("web.svc", "A", ["10.0.0.4"], ttl=1)
        time.sleep(1.1)
        assert discovery.resolve() == ["http://10.0.0.4:2019"]


def test_dns_failures_are_connect_errors():
    zone = Zone()
    with dns_server(zone) as ns, pytest.raises(frankenws.ConnectError, match="names no node"):
        Discovery("dns+a://missing.svc:2019", nameservers=[ns]).resolve()
    silent = dead_url().removeprefix("http://")
    with pytest.raises(frankenws.ConnectError, match="DNS lookup failed"):
        Discovery("dns+a://x.svc:2019", nameservers=[silent], lifetime=0.5).resolve()


@pytest.mark.parametrize(
    "url",
    [
        "http://x:2019",
        "dns+a://x",
        "dns+srv://_a._tcp.x:53",
        "dns+a://x:99999",
        "dns+a://x:1?scheme=ftp",
    ],
)
def test_bad_discovery_urls_are_refused(url: str):
    with pytest.raises(frankenws.InvalidArgument):
        Discovery(url, nameservers=["127.0.0.1:1"])


def test_cluster_discovers_its_nodes_and_follows_the_record_set():
    zone = Zone()
    with serve_fleet(3) as fleet, dns_server(zone) as ns:
        # Discovery lists nodes sorted by URL; keep the fleet in that order too.
        order = sorted(range(3), key=lambda i: fleet.urls[i])
        fleet.servers[:] = [fleet.servers[i] for i in order]
        fleet.fakes[:] = [fleet.fakes[i] for i in order]
        for fake in fleet.fakes:
            fake.connect("/chat")
        ports = [server.admin_port for server in fleet.servers]
        zone.set("_admin._tcp.fp.svc", "SRV", [srv(p, "lo.fp.svc.") for p in ports[:2]], ttl=1)
        zone.set("lo.fp.svc", "A", ["127.0.0.1"], ttl=1)
        with frankenws.Cluster.discover(
            "dns+srv://_admin._tcp.fp.svc", nameservers=[ns]
        ) as cluster:
            assert [n.url for n in cluster.nodes] == fleet.urls[:2]
            assert cluster.get_clients_count() == 2
            zone.set("_admin._tcp.fp.svc", "SRV", [srv(p, "lo.fp.svc.") for p in ports[1:]], ttl=1)
            # Within the TTL refresh() keeps the answer; force=True asks again.
            assert [n.url for n in cluster.refresh()] == fleet.urls[:2]
            assert [n.url for n in cluster.refresh(force=True)] == fleet.urls[1:]
            assert cluster.get_clients_by_node() == {
                url: fake.get_clients()
                for url, fake in zip(fleet.urls[1:], fleet.fakes[1:], strict=True)
            }


def test_cluster_re_resolves_on_an_interval():
    zone = Zone()
    with serve_fleet(2) as fleet, dns_server(zone) as ns:
        fleet.fakes[1].connect("/chat")
        port = fleet.servers[0].admin_port
        zone.set("_admin._tcp.fp.svc", "SRV", [srv(port, "lo.fp.svc.")], ttl=1)
        zone.set("lo.fp.svc", "A", ["127.0.0.1"], ttl=1)
        with frankenws.Cluster.discover(
            "dns+srv://_admin._tcp.fp.svc", nameservers=[ns], refresh_interval=0.2
        ) as cluster:
            assert cluster.get_clients_count() == 0
            other = fleet.servers[1].admin_port
            zone.set("_admin._tcp.fp.svc", "SRV", [srv(other, "lo.fp.svc.")], ttl=1)
            assert cluster.get_clients_count() == 0  # the TTL has not passed yet
            time.sleep(1.1)
            assert cluster.get_clients_count() == 1
            assert [n.url for n in cluster.nodes] == [fleet.urls[1]]


def test_a_records_over_several_loopback_addresses():
    """dns+a gives every node the same port, as pods of a headless service have."""
    first = FakeFrankenPHP(host_check=False)
    second = FakeFrankenPHP(host_check=False)
    first.connect("/a")
    second.connect("/b")
    with first.serve() as one, second.serve(host="127.0.0.2", admin_port=one.admin_port):
        zone = Zone()
        zone.set("pods.svc", "A", ["127.0.0.1", "127.0.0.2"])
        with (
            dns_server(zone) as ns,
            frankenws.Cluster.discover(
                f"dns+a://pods.svc:{one.admin_port}", nameservers=[ns]
            ) as cluster,
        ):
            assert cluster.list_routes() == ["/a", "/b"]


async def test_async_cluster_discovers_too():
    zone = Zone()
    with serve_fleet(2) as fleet, dns_server(zone) as ns:
        for fake in fleet.fakes:
            fake.connect("/chat")
        ports = [server.admin_port for server in fleet.servers]
        zone.set("_admin._tcp.fp.svc", "SRV", [srv(p, "lo.fp.svc.") for p in ports], ttl=1)
        zone.set("lo.fp.svc", "A", ["127.0.0.1"], ttl=1)
        cluster = await frankenws.AsyncCluster.discover(
            "dns+srv://_admin._tcp.fp.svc", nameservers=[ns]
        )
        async with cluster:
            assert await cluster.get_clients_count() == 2
            zone.set("_admin._tcp.fp.svc", "SRV", [srv(ports[0], "lo.fp.svc.")], ttl=1)
            nodes = await cluster.refresh(force=True)
            assert [n.url for n in nodes] == [fleet.urls[0]]
            assert await cluster.get_clients_count() == 1
