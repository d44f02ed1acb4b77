// Package sample ships the sample organisation `tango demo` starts with:
// the first monthly snapshot (2009-12) of the fictional company DTAA from
// the CERT Insider Threat Test Dataset r5.2 (synthetic data by the CERT
// Division of Carnegie Mellon's Software Engineering Institute with
// ExactData, LLC; DOI 10.1184/R1/12841247). No real person is in it. The
// other months are in testdata/cert-r5.2-ldap at the repository root.
package sample

import _ "embed"

// Name is the file name of the embedded snapshot.
const Name = "2009-12.csv"

// Org is the organisation in the snapshot.
const Org = "DTAA"

// Snapshot is the embedded HR snapshot, in the columns config.Default maps.
//
//go:embed 2009-12.csv
var Snapshot []byte
