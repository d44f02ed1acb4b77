// Independent SCIM 2.0 server that Tango's tests run the SCIM connector
// against. The protocol is implemented by the npm packages scimmy (schemas,
// filters, PATCH, list responses) and scimmy-routers (the express routes);
// this file only supplies an in-memory store, bearer-token authentication,
// a page size limit and a few test-only control endpoints.
//
// Usage: node server.js [port]
//
// Environment:
//   SCIM_PORT           port to listen on (when not given as argument)
//   SCIM_TOKEN          bearer token every request must present (required)
//   SCIM_MAX_PAGE_SIZE  largest page a list request returns (default 10)
//   SCIM_DATA_FILE      JSON file the data is loaded from at start and saved
//                       to on SIGTERM/SIGINT (optional), so that a restarted
//                       server keeps its accounts
//
// Endpoints:
//   /scim/v2/...              SCIM 2.0: Users (core + enterprise extension,
//                             and urn:ietf:params:scim:schemas:extension:
//                             tango-test:2.0:User with lastLogin, as apps
//                             that report sign-ins have), Groups, Schemas,
//                             ResourceTypes,
//                             ServiceProviderConfig
//   POST /scim/v2/Users/:id/revokeSessions
//                             not SCIM: a proprietary session-revocation
//                             endpoint, as identity providers have (204;
//                             404 for an unknown user); counted per user
//   GET  /__control/health    200 once the server is ready
//   POST /__control/fail      {"status": 429, "retryAfter": 1, "times": 2}:
//                             the next `times` SCIM requests fail with that
//                             status (and Retry-After header when given)
//   GET  /__control/stats     {"requests": n, "failed": n, "users": n, "groups": n}
//   GET  /__control/sessions  {"<user id>": revocations, ...}
//   POST /__control/reset     forget all users, groups, failures and counters
// Control endpoints require the same bearer token.
//
// Prints "listening <port>" on stdout once it accepts connections.
"use strict";

const crypto = require("node:crypto");
const fs = require("node:fs");
const express = require("express");
const SCIMMY = require("scimmy").default;
const {SCIMMYRouters} = require("scimmy-routers");

const port = Number(process.argv[2] || process.env.SCIM_PORT);
const token = process.env.SCIM_TOKEN || "";
const maxPageSize = Number(process.env.SCIM_MAX_PAGE_SIZE || 10);
const dataFile = process.env.SCIM_DATA_FILE || "";

if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    console.error("scim-server: give the port as argument or SCIM_PORT");
    process.exit(2);
}
if (!token) {
    console.error("scim-server: SCIM_TOKEN is required");
    process.exit(2);
}
if (!Number.isInteger(maxPageSize) || maxPageSize < 1) {
    console.error("scim-server: SCIM_MAX_PAGE_SIZE must be a positive integer");
    process.exit(2);
}

// ------------------------------------------------------------------ store

/** @type {Map<string, object>} id -> stored user (plain JSON) */
let users = new Map();
/** @type {Map<string, object>} id -> stored group (plain JSON) */
let groups = new Map();

function load() {
    if (!dataFile || !fs.existsSync(dataFile)) return;
    const data = JSON.parse(fs.readFileSync(dataFile, "utf8"));
    users = new Map((data.users || []).map(u => [u.id, u]));
    groups = new Map((data.groups || []).map(g => [g.id, g]));
}

function save() {
    if (!dataFile) return;
    const tmp = dataFile + ".tmp";
    fs.writeFileSync(tmp, JSON.stringify({users: [...users.values()], groups: [...groups.values()]}));
    fs.renameSync(tmp, dataFile);
}

const plain = (v) => JSON.parse(JSON.stringify(v));
const now = () => new Date().toISOString();
const sameText = (a, b) => typeof a === "string" && typeof b === "string" && a.toLowerCase() === b.toLowerCase();

// The groups a user belongs to, as the read-only User "groups" attribute.
function groupsOf(userID) {
    const out = [];
    for (const g of groups.values()) {
        if ((g.members || []).some(m => m.value === userID)) {
            out.push({value: g.id, display: g.displayName, type: "direct"});
        }
    }
    return out;
}

// Apply the requested page to a list request, never more than maxPageSize.
function constrain(resource, ctx) {
    const c = resource.constraints || {};
    let count = ctx.count ?? c.count ?? maxPageSize;
    if (count > maxPageSize) count = maxPageSize;
    resource.constraints = {...c, startIndex: ctx.startIndex ?? c.startIndex ?? 1, count};
}

function notFound(resource) {
    return new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
}

// ------------------------------------------------------------------ Users

// Apps that track sign-ins expose when a user last signed in in an
// extension of their own (SCIM 2.0 defines no such attribute): this one
// stands for them. Tests set it as the app would, with a PATCH or PUT.
const ActivityUser = new SCIMMY.Types.SchemaDefinition("ActivityUser",
    "urn:ietf:params:scim:schemas:extension:tango-test:2.0:User",
    "Test-only: when the user last signed in to the app",
    [new SCIMMY.Types.Attribute("dateTime", "lastLogin")]);

SCIMMY.Resources.declare(SCIMMY.Resources.User, {
    extensions: [{schema: SCIMMY.Schemas.EnterpriseUser, required: false}, {schema: ActivityUser, required: false}],
    egress: (resource, ctx) => {
        const out = (u) => {
            const g = groupsOf(u.id);
            return g.length ? {...u, groups: g} : {...u};
        };
        if (resource.id) {
            const u = users.get(resource.id);
            if (!u) throw notFound(resource);
            return out(u);
        }
        let list = [...users.values()];
        if (resource.filter) list = resource.filter.match(list);
        constrain(resource, ctx);
        return list.map(out);
    },
    ingress: (resource, instance) => {
        const data = plain(instance);
        delete data.groups; // read-only, derived from the groups
        const clash = [...users.values()].find(u => u.id !== resource.id && sameText(u.userName, data.userName));
        if (clash) throw new SCIMMY.Types.Error(409, "uniqueness", `userName ${data.userName} is already taken`);
        const ts = now();
        let record;
        if (resource.id) {
            const old = users.get(resource.id);
            if (!old) throw notFound(resource);
            record = {...data, id: old.id, meta: {...old.meta, lastModified: ts}};
        } else {
            record = {active: true, ...data, id: crypto.randomUUID(), meta: {resourceType: "User", created: ts, lastModified: ts}};
        }
        users.set(record.id, record);
        return record;
    },
    degress: (resource) => {
        if (!users.delete(resource.id)) throw notFound(resource);
        for (const g of groups.values()) {
            g.members = (g.members || []).filter(m => m.value !== resource.id);
        }
    },
});

// ------------------------------------------------------------------ Groups

SCIMMY.Resources.declare(SCIMMY.Resources.Group, {
    egress: (resource, ctx) => {
        if (resource.id) {
            const g = groups.get(resource.id);
            if (!g) throw notFound(resource);
            return {...g};
        }
        let list = [...groups.values()];
        if (resource.filter) list = resource.filter.match(list);
        constrain(resource, ctx);
        return list.map(g => ({...g}));
    },
    ingress: (resource, instance) => {
        const data = plain(instance);
        const clash = [...groups.values()].find(g => g.id !== resource.id && sameText(g.displayName, data.displayName));
        if (clash) throw new SCIMMY.Types.Error(409, "uniqueness", `displayName ${data.displayName} is already taken`);
        // Members are users of this server, each listed once.
        const members = [];
        for (const m of data.members || []) {
            if (!m || typeof m.value !== "string") continue;
            if (!users.has(m.value)) throw new SCIMMY.Types.Error(400, "invalidValue", `member ${m.value} is not a user`);
            if (members.some(x => x.value === m.value)) continue;
            members.push({value: m.value, display: users.get(m.value).userName, type: "User"});
        }
        const ts = now();
        let record;
        if (resource.id) {
            const old = groups.get(resource.id);
            if (!old) throw notFound(resource);
            record = {...data, members, id: old.id, meta: {...old.meta, lastModified: ts}};
        } else {
            record = {...data, members, id: crypto.randomUUID(), meta: {resourceType: "Group", created: ts, lastModified: ts}};
        }
        groups.set(record.id, record);
        return record;
    },
    degress: (resource) => {
        if (!groups.delete(resource.id)) throw notFound(resource);
    },
});

// ------------------------------------------------------------------ HTTP

const stats = {requests: 0, failed: 0};
/** @type {Map<string, number>} user id -> session revocations */
let revocations = new Map();
// Failures injected by POST /__control/fail for the next SCIM requests.
let failure = null; // {status, retryAfter, times}

function authorized(req) {
    const h = req.header("Authorization") || "";
    const m = /^Bearer\s+(.+)$/i.exec(h);
    if (!m) return false;
    const got = Buffer.from(m[1].trim());
    const want = Buffer.from(token);
    return got.length === want.length && crypto.timingSafeEqual(got, want);
}

const app = express();
app.disable("x-powered-by");

const control = express.Router();
control.use(express.json({limit: "64kb"}));
control.get("/health", (req, res) => res.json({ok: true}));
control.use((req, res, next) => {
    if (!authorized(req)) return res.status(401).json({detail: "bearer token required"});
    next();
});
control.post("/fail", (req, res) => {
    const {status, retryAfter = 0, times = 1} = req.body || {};
    if (!Number.isInteger(status) || status < 400 || status > 599 || !Number.isInteger(times) || times < 0) {
        return res.status(400).json({detail: "want {status: 4xx|5xx, retryAfter: seconds, times: n}"});
    }
    failure = times > 0 ? {status, retryAfter, times} : null;
    res.json({ok: true});
});
control.get("/stats", (req, res) => res.json({...stats, users: users.size, groups: groups.size}));
control.get("/sessions", (req, res) => res.json(Object.fromEntries(revocations)));
control.post("/reset", (req, res) => {
    users = new Map();
    groups = new Map();
    failure = null;
    revocations = new Map();
    stats.requests = stats.failed = 0;
    res.json({ok: true});
});
app.use("/__control", control);

// Every SCIM request is counted, and fails while a failure is armed.
app.use("/scim/v2", (req, res, next) => {
    stats.requests++;
    if (failure && failure.times > 0 && authorized(req)) {
        const {status, retryAfter} = failure;
        if (--failure.times === 0) failure = null;
        stats.failed++;
        if (retryAfter) res.set("Retry-After", String(retryAfter));
        return res.status(status).type("application/scim+json").send(JSON.stringify({
            schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"],
            status: String(status),
            detail: `injected failure ${status}`,
        }));
    }
    next();
});

// The proprietary session revocation (before the SCIM routes).
app.post("/scim/v2/Users/:id/revokeSessions", (req, res) => {
    if (!authorized(req)) return res.status(401).json({detail: "bearer token required"});
    if (!users.has(req.params.id)) {
        return res.status(404).type("application/scim+json").send(JSON.stringify({
            schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"], status: "404", detail: `Resource ${req.params.id} not found`,
        }));
    }
    revocations.set(req.params.id, (revocations.get(req.params.id) || 0) + 1);
    res.status(204).end();
});

app.use("/scim/v2", new SCIMMYRouters({
    type: "bearer",
    docUri: "https://example.com/tango-test-scim-server",
    handler: (req) => {
        if (!authorized(req)) throw new Error("missing or invalid bearer token");
        return "tango";
    },
    // Paging parameters, parsed here because express 5 hands scimmy strings.
    context: (req) => {
        const int = (v) => (v !== undefined && /^\d+$/.test(String(v)) ? Number(v) : undefined);
        return {startIndex: int(req.query.startIndex), count: int(req.query.count)};
    },
}));

SCIMMY.Config.set({
    bulk: {supported: false},
    changePassword: {supported: false},
    etag: {supported: false},
    filter: {supported: true, maxResults: maxPageSize},
    patch: {supported: true},
    sort: {supported: true},
});

load();
const server = app.listen(port, "127.0.0.1", () => {
    process.stdout.write(`listening ${port}\n`);
});
server.on("error", (err) => {
    console.error(`scim-server: ${err.message}`);
    process.exit(1);
});

function shutdown() {
    try {
        save();
    } catch (err) {
        console.error(`scim-server: save ${dataFile}: ${err.message}`);
        process.exit(1);
    }
    process.exit(0);
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
