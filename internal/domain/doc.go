// Package domain is Tango's vocabulary: persons, lifecycle events,
// imports, access requests, cases, tasks, account operations,
// notifications, their states, and the kinds of error every part
// answers with. It imports nothing of Tango; every other package may
// import it.
package domain
