#!/usr/bin/env python3
"""schedule-load.py FILE URL: create the Nodes and Pods of a List (as
schedule-gen.py writes it) in a store, 8 connections at a time. A node whose
status the create did not keep gets it through the status subresource."""
import http.client, json, sys, threading, urllib.parse

items = json.load(open(sys.argv[1]))["items"]
url = urllib.parse.urlparse(sys.argv[2])
nodes = [o for o in items if o["kind"] == "Node"]
pods = [o for o in items if o["kind"] == "Pod"]
failed = []

def worker(objs, path):
    c = http.client.HTTPConnection(url.hostname, url.port)
    for o in objs:
        p = path(o)
        c.request("POST", p, json.dumps(o), {"Content-Type": "application/json"})
        r = c.getresponse()
        body = r.read()
        if r.status != 201:
            failed.append((p, r.status, body[:200]))
            continue
        if o["kind"] == "Node" and not json.loads(body).get("status", {}).get("allocatable"):
            got = json.loads(body)
            got["status"] = o["status"]
            c.request("PUT", "/api/v1/nodes/%s/status" % o["metadata"]["name"], json.dumps(got),
                      {"Content-Type": "application/json"})
            r = c.getresponse()
            r.read()
            if r.status != 200:
                failed.append(("status " + o["metadata"]["name"], r.status, b""))

def run(objs, path, n=8):
    ts = [threading.Thread(target=worker, args=(objs[i::n], path)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()

run(nodes, lambda o: "/api/v1/nodes")
run(pods, lambda o: "/api/v1/namespaces/%s/pods" % o["metadata"].get("namespace", "default"))
if failed:
    print("failed: %d, first: %r" % (len(failed), failed[0]), file=sys.stderr)
    sys.exit(1)
