package manifest

import "testing"

func TestDecode(t *testing.T) {
	objs, err := Decode([]byte("---\n# only a comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n{\"apiVersion\": \"v1\", \"kind\": \"Secret\", \"metadata\": {\"name\": \"b\"}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 || objs[0].GetKind() != "ConfigMap" || objs[1].GetName() != "b" {
		t.Fatalf("decoded %v", objs)
	}
	if _, err := Decode([]byte("a: [unclosed\n")); err == nil {
		t.Fatal("a broken stream decoded without an error")
	}
}
