#!/usr/bin/env bash
# kx-apply reads YAML as kubectl does: comments, several documents (empty
# ones too), anchors and aliases, merge keys, block scalars with their
# chomping, flow style, quoting, CRLF line ends, a UTF-8 byte order mark,
# and JSON. A broken document is an error naming file and line, and nothing
# of that file is applied.
. "$(dirname "$0")/lib.sh"
[ -x "$TOP/bin/kx-store" ] || skip_all "kx-store is not built"
store_start || { echo "1..1"; echo "not ok 1 - kx-store did not start"; exit 1; }

cat >"$T/a.yaml" <<'YAML'
# a comment before anything
---
# an empty document

---
apiVersion: v1   # trailing comment
kind: ConfigMap
metadata:
  name: y1
  labels: &l1
    app: web
    tier: "1"
  annotations: *l1
data:
  literal: |
    one
      two
  strip: |-
    no newline
  keep: |+
    kept

  folded: >
    folded
    text

    para
  quoted: "007"
  single: 'it''s'
  plain: 8080x
  flow: "{a: 1}"
  empty: ""
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: y2
  annotations: &common
    app: web
    tier: "1"
  labels:
    <<: *common
    extra: "yes"
data: {a: "1", b: 'two'}
...
---
YAML
is "$(kx-apply -f "$T/a.yaml" 2>&1)" "configmap/y1 created
configmap/y2 created" "two objects among comments and empty documents"
is "$(kx-get cm y1 -o json | jq -cS .data)" \
	'{"empty":"","flow":"{a: 1}","folded":"folded text\npara\n","keep":"kept\n\n","literal":"one\n  two\n","plain":"8080x","quoted":"007","single":"it'"'"'s","strip":"no newline"}' \
	"block scalars, chomping, quoting as YAML says"
is "$(kx-get cm y1 -o 'jq=.metadata.annotations | del(.["kubectl.kubernetes.io/last-applied-configuration"]) | tojson')" '{"app":"web","tier":"1"}' "an anchor and its alias"
is "$(kx-get cm y2 -o json | jq -cS .metadata.labels)" '{"app":"web","extra":"yes","tier":"1"}' "an alias merged with <<"

# CRLF line ends and a byte order mark
printf '\xef\xbb\xbfapiVersion: v1\r\nkind: ConfigMap\r\nmetadata:\r\n  name: crlf\r\ndata:\r\n  k: v\r\n' >"$T/crlf.yaml"
is "$(kx-apply -f "$T/crlf.yaml" 2>&1)" "configmap/crlf created" "CRLF and a BOM"
is "$(kx-get cm crlf -o jq=.data.k)" v "without a stray CR"

# JSON, several values in one file
printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"j1"}}\n{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"j2"}}\n' >"$T/j.json"
is "$(kx-apply -f "$T/j.json" 2>&1)" "configmap/j1 created
configmap/j2 created" "a JSON file with two objects"

# a broken second document: nothing of the file is applied, file and line named
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: first\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: tab\n' >"$T/broken.yaml"
out=$(kx-apply -f "$T/broken.yaml" 2>&1)
is "$?" 1 "a document that does not parse: exit 1"
like "$out" "broken\.yaml:9" "the message names file and line"
fails "and the first document was not applied" 4 kx-get cm first

# nothing at all
printf '# only a comment\n---\n' >"$T/empty.yaml"
fails "a file without objects: exit 1" 1 kx-apply -f "$T/empty.yaml"
like "$(kx-apply -f "$T/empty.yaml" 2>&1)" "no objects passed to apply" "and says so as kubectl does"

done_testing
