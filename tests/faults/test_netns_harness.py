"""R13 skips only with a stated reason, naming what the machine lacks (never silently)."""

import shutil

from tests.faults import netns


def test_the_skip_reason_names_the_missing_capability(monkeypatch):
    monkeypatch.setattr(netns.os, "geteuid", lambda: 1000)
    assert "not root" in netns.netns_missing() and "CAP_NET_ADMIN" in netns.netns_missing()
    monkeypatch.setattr(netns.shutil, "which", lambda name: None)
    assert "iproute2" in netns.netns_missing()


def test_a_refused_namespace_is_a_reason(monkeypatch):
    if shutil.which("ip") is None:
        return
    monkeypatch.setattr(netns.os, "geteuid", lambda: 0)
    monkeypatch.setattr(
        netns, "_ip", lambda *a, check=True: netns.subprocess.CompletedProcess(a, 2, "", "Operation not permitted")
    )
    assert "ip netns add" in netns.netns_missing() and "Operation not permitted" in netns.netns_missing()
