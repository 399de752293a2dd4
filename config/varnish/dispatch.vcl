# Varnish 7.1 in front of Dispatch (docs/deployment.md, docs/caching.md).
# Needs varnish-modules for xkey (Debian: apt-get install varnish varnish-modules).
#
# - Signed-out GETs of pages Django marks `Cache-Control: public` are kept,
#   `s-maxage` long, tagged by their `xkey` header (post-<slug>, listings, site).
# - Signed-in readers (a session cookie), and visitors with a message or a
#   counter of their own to see, go to Django every time.
# - Campaign and click-tracking parameters are left out of the cache key.
# - Stale copies are served for 30 s while a fresh one is fetched, and for up
#   to a day while Django is down.
# - PURGE with an `xkey-purge: key key ...` header drops every page carrying one
#   of the keys; only the app hosts in `acl purgers` may send it.
vcl 4.1;

import std;
import xkey;

# gunicorn. Every app host that runs web or worker processes goes in `purgers` below.
backend dispatch {
    .host = "127.0.0.1";
    .port = "8000";
    .connect_timeout = 2s;
    .first_byte_timeout = 30s;
    .probe = {
        .url = "/healthz";
        .interval = 2s;
        .timeout = 1s;
        .window = 3;
        .threshold = 2;
        .initial = 2;
    }
}

acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(403, "Purges are taken from the app hosts only"));
        }
        if (!req.http.xkey-purge) {
            return (synth(400, "Name the keys in an xkey-purge header"));
        }
        # Space-separated keys (commas purged nothing on Varnish 6 hosts).
        set req.http.X-Purged = xkey.purge(req.http.xkey-purge);
        return (synth(200, "Purged " + req.http.X-Purged));
    }
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    # Campaign tags differ per link, not per page: one copy serves them all.
    # Django never sees them (the page-view beacon reads them from its Referer).
    if (req.url ~ "[?&](utm_[a-z]+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid)=") {
        set req.url = regsuball(req.url, "(?<=[?&])(utm_[a-z]+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid)=[^&]*&?", "");
        set req.url = regsub(req.url, "[?&]$", "");
    }
    # A session (signed in, or a pending like), a message to show, or a
    # counter the visitor just changed ("fresh"): their own page, from Django.
    if (req.http.Authorization || req.http.Cookie ~ "(^|;\s*)(sessionid|messages|fresh)=") {
        return (pass);
    }
    # Any other cookie (csrftoken, analytics) changes nothing on a signed-out page.
    unset req.http.Cookie;
    # Healthy: at most 30 s stale while the next copy is fetched. Down: the
    # object's whole grace (a day, below).
    if (std.healthy(req.backend_hint)) {
        set req.grace = 30s;
    }
    return (hash);
}

sub vcl_backend_response {
    # Only what Django marks public is kept. 404s, redirects and private pages
    # are fetched every time (a 404 kept from before a post was published
    # would outlive the publish).
    if (beresp.http.Cache-Control !~ "(^|,\s*)public" || beresp.http.Set-Cookie) {
        set beresp.uncacheable = true;
        set beresp.ttl = 120s;
        return (deliver);
    }
    set beresp.grace = 24h;
    return (deliver);
}

sub vcl_deliver {
    unset resp.http.xkey;
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
}
