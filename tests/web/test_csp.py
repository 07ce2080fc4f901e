"""A configured basemap opens img-src to its origin, and nothing else (issue 12, item 7: no
request leaves the hub unless configured)."""

from hub.web.security import CSP, csp_for


def test_no_basemap_keeps_the_hubs_policy():
    assert csp_for(None) == CSP
    assert "img-src 'self' data: blob:;" in CSP


def test_a_basemap_adds_its_origin_to_img_src_only():
    policy = csp_for("https://data.geopf.fr/wmts?layer=PLAN&z={z}&x={x}&y={y}")
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["img-src"] == "'self' data: blob: https://data.geopf.fr"
    for name, value in dict(d.strip().split(" ", 1) for d in CSP.split(";")).items():
        if name != "img-src":
            assert directives[name] == value, name
