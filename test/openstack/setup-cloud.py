#!/usr/bin/python3
"""test/openstack/setup-cloud.py - the API-side setup of the loopback cloud
(called by up.sh; idempotent).

  keystone       service users, the demo project/user, the service catalog
  wait-compute   waits until nova-compute reports and has a resource provider
  resources      flavors, images, networks, router, the application
                 credential of demo, and clouds.yaml

Uses Debian's keystoneauth1/keystoneclient (run with /usr/bin/python3)."""
import json
import os
import sys
import time

from keystoneauth1 import session
from keystoneauth1.identity import v3

PW = os.environ["JCICD_OS_PASSWORD"]
AUTH_URL = "http://127.0.0.1:5000/v3"
ETC = "/etc/jcicd-openstack"
STATE = "/var/lib/jcicd-openstack"
NOVA_MV = {"OpenStack-API-Version": "compute 2.93"}


def admin_session():
    return session.Session(auth=v3.Password(
        auth_url=AUTH_URL, username="admin", password=PW, project_name="admin",
        user_domain_id="default", project_domain_id="default"))


def keystone():
    from keystoneclient.v3 import client
    ks = client.Client(session=admin_session())

    def one(items):
        return items[0] if items else None

    def project(name, desc):
        return one(ks.projects.list(name=name, domain="default")) or \
            ks.projects.create(name, "default", description=desc)
    roles = {}

    def role(name):
        if name not in roles:
            roles[name] = one(ks.roles.list(name=name)) or ks.roles.create(name)
        return roles[name]

    def user(name, proj, *rolenames):
        u = one(ks.users.list(name=name, domain="default"))
        if u:
            ks.users.update(u, password=PW, default_project=proj, enabled=True)
        else:
            u = ks.users.create(name, domain="default", password=PW, default_project=proj)
        for r in rolenames:
            ks.roles.grant(role(r), user=u, project=proj)
    service = project("service", "OpenStack service users")
    for svc in ("glance", "placement", "nova", "neutron"):
        user(svc, service, "admin", "service")
    user("demo", project("demo", "jcicd integration tests"), "member", "reader")
    for name, typ, url in [("glance", "image", "http://127.0.0.1:9292"),
                           ("placement", "placement", "http://127.0.0.1:8778"),
                           ("nova", "compute", "http://127.0.0.1:8774/v2.1"),
                           ("neutron", "network", "http://127.0.0.1:9696")]:
        s = one(ks.services.list(type=typ)) or ks.services.create(name, type=typ)
        eps = ks.endpoints.list(service=s)
        for iface in ("public", "internal", "admin"):
            e = [x for x in eps if x.interface == iface]
            if not e:
                ks.endpoints.create(s, url, interface=iface, region="RegionOne")
            elif e[0].url != url:
                ks.endpoints.update(e[0], url=url)


def wait_compute():
    s = admin_session()
    nova = dict(endpoint_filter={"service_type": "compute"}, raise_exc=False, headers=NOVA_MV)

    def up():
        r = s.get("/os-services?binary=nova-compute", **nova)
        return r.ok and any(x["state"] == "up" for x in r.json()["services"])

    def rp():
        r = s.get("/resource_providers", endpoint_filter={"service_type": "placement"},
                  raise_exc=False, headers={"OpenStack-API-Version": "placement 1.14"})
        return r.ok and len(r.json()["resource_providers"]) > 0
    t = time.time()
    while not (up() and rp()):
        if time.time() - t > 180:
            sys.exit("nova-compute did not register (see /var/log/nova/nova-compute.log)")
        time.sleep(0.5)


def resources():
    s = admin_session()
    nova = dict(endpoint_filter={"service_type": "compute"}, headers=NOVA_MV)
    glance = dict(endpoint_filter={"service_type": "image"})
    neutron = dict(endpoint_filter={"service_type": "network"})

    # flavors; jc.huge wants more RAM than the fake host (800 GB) has, so its
    # servers are refused by the scheduler and go to ERROR
    have = {f["name"] for f in s.get("/flavors", **nova).json()["flavors"]}
    for fid, name, vcpus, ram, disk in [("1", "m1.tiny", 1, 512, 1), ("2", "m1.small", 1, 2048, 20),
                                        ("3", "m1.medium", 2, 4096, 40), ("4", "m1.large", 4, 8192, 80),
                                        ("99", "jc.huge", 1, 1024000, 1)]:
        if name not in have:
            s.post("/flavors", json={"flavor": {"id": fid, "name": name, "vcpus": vcpus, "ram": ram,
                                                "disk": disk, "os-flavor-access:is_public": True}}, **nova)

    def images(name):
        return [i for i in s.get("/v2/images?name=%s" % name, **glance).json()["images"]
                if i["status"] == "active"]

    def make_image(name):
        i = s.post("/v2/images", json={"name": name, "disk_format": "raw", "container_format": "bare",
                                       "visibility": "public", "min_disk": 0, "min_ram": 0},
                   **glance).json()
        s.put("/v2/images/%s/file" % i["id"], data=b"\0" * 1024,
              headers={"Content-Type": "application/octet-stream"}, **glance)
    if not images("fake-image"):
        make_image("fake-image")
    # two images of one name: jcicd must refuse the name as ambiguous
    for _ in range(2 - len(images("dup-image"))):
        make_image("dup-image")

    # the linuxbridge agent must be alive for ports to bind
    t = time.time()
    while not any(a["alive"] for a in s.get("/v2.0/agents?binary=neutron-linuxbridge-agent",
                                            **neutron).json()["agents"]):
        if time.time() - t > 120:
            sys.exit("linuxbridge agent not alive (see /var/log/jcicd-openstack/neutron-linuxbridge-agent.log)")
        time.sleep(0.5)

    def get_or_create(kind, name, body):
        items = s.get("/v2.0/%ss?name=%s" % (kind.replace("_", "-"), name), **neutron).json()[kind + "s"]
        if items:
            return items[0]
        return s.post("/v2.0/%ss" % kind.replace("_", "-"), json={kind: dict(body, name=name)},
                      **neutron).json()[kind]
    net = get_or_create("network", "test-net", {"shared": True, "provider:network_type": "flat",
                                                "provider:physical_network": "physnet1"})
    subnet = get_or_create("subnet", "test-subnet", {"network_id": net["id"], "ip_version": 4,
                                                     "cidr": "10.99.0.0/24", "gateway_ip": "10.99.0.1",
                                                     "enable_dhcp": False})
    ext = get_or_create("network", "ext-net", {"router:external": True, "provider:network_type": "flat",
                                               "provider:physical_network": "physnet2"})
    get_or_create("subnet", "ext-subnet", {"network_id": ext["id"], "ip_version": 4,
                                           "cidr": "203.0.113.0/24", "gateway_ip": "203.0.113.1",
                                           "enable_dhcp": False})
    # a floating IP can only be associated with a port whose subnet a router
    # joins to the external network
    router = get_or_create("router", "jcicd-router", {"external_gateway_info": {"network_id": ext["id"]}})
    ports = s.get("/v2.0/ports?device_id=%s&network_id=%s" % (router["id"], net["id"]), **neutron).json()["ports"]
    if not ports:
        s.put("/v2.0/routers/%s/add_router_interface" % router["id"], json={"subnet_id": subnet["id"]},
              **neutron)

    # the application credential of demo (its secret is only shown once:
    # kept in STATE and reused while Keystone still knows it)
    demo = session.Session(auth=v3.Password(
        auth_url=AUTH_URL, username="demo", password=PW, project_name="demo",
        user_domain_id="default", project_domain_id="default"))
    uid = demo.get_user_id()
    ident = dict(endpoint_filter={"service_type": "identity", "interface": "public"})
    path = os.path.join(STATE, "appcred.json")
    cred = None
    if os.path.exists(path):
        with open(path) as f:
            cred = json.load(f)
        r = demo.get("/users/%s/application_credentials/%s" % (uid, cred["id"]), raise_exc=False, **ident)
        if r.status_code != 200:
            cred = None
    if cred is None:
        for c in demo.get("/users/%s/application_credentials?name=jcicd-test" % uid,
                          **ident).json()["application_credentials"]:
            demo.delete("/users/%s/application_credentials/%s" % (uid, c["id"]), **ident)
        c = demo.post("/users/%s/application_credentials" % uid,
                      json={"application_credential": {"name": "jcicd-test"}}, **ident).json()
        cred = {"id": c["application_credential"]["id"], "secret": c["application_credential"]["secret"]}
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(cred, f)

    def pw_cloud(user):
        return {"auth": {"auth_url": AUTH_URL, "username": user, "password": PW, "project_name": user,
                         "user_domain_name": "Default", "project_domain_name": "Default"},
                "region_name": "RegionOne", "identity_api_version": 3,
                # jcicd: roles that name no networks go on test-net (this
                # cloud has no auto-allocated topology for "auto")
                "jcicd": {"default_networks": ["test-net"], "floating_network": "ext-net"}}
    clouds = {"clouds": {
        "jcicd-admin": pw_cloud("admin"),
        "jcicd-demo": pw_cloud("demo"),
        "jcicd-appcred": {"auth_type": "v3applicationcredential",
                          "auth": {"auth_url": AUTH_URL, "application_credential_id": cred["id"],
                                   "application_credential_secret": cred["secret"]},
                          "region_name": "RegionOne", "identity_api_version": 3,
                          "jcicd": {"default_networks": ["test-net"]}},
    }}
    tmp = os.path.join(ETC, "clouds.yaml.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("# written by test/openstack/up.sh (JSON is YAML)\n")
        json.dump(clouds, f, indent=2)
        f.write("\n")
    os.rename(tmp, os.path.join(ETC, "clouds.yaml"))


if __name__ == "__main__":
    {"keystone": keystone, "wait-compute": wait_compute, "resources": resources}[sys.argv[1]]()
