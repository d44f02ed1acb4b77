// Real SMTP server that Tango's tests send notifications to. The protocol
// (EHLO, STARTTLS, AUTH PLAIN/LOGIN, MAIL, RCPT, DATA) is implemented by
// the npm package smtp-server (from Nodemailer); this file only checks
// credentials, records every message it accepts and offers a few
// test-only control endpoints over HTTP.
//
// Usage: node server.js SMTP_PORT CONTROL_PORT
//
// Environment:
//   SMTP_USER, SMTP_PASS  when set, AUTH is required with exactly these
//                         (and, as smtp-server does by default, only over
//                         TLS); otherwise no AUTH is offered
//   SMTP_TLS_KEY, SMTP_TLS_CERT
//                         PEM files: STARTTLS is offered with them; without
//                         them STARTTLS is not offered
//   SMTP_CONTROL_TOKEN    bearer token the control endpoints require
//
// Control endpoints (http://127.0.0.1:CONTROL_PORT):
//   GET  /health     200 once the server is ready
//   GET  /messages   [{"from", "to": [...], "raw", "secure", "user", "at"}]
//                    every message accepted, oldest first ("raw" is the
//                    message as sent: headers and body)
//   POST /fail       {"code": 451, "times": 2}: the next `times` messages
//                    are refused after DATA with that reply code
//   POST /reset      forget messages and armed failures
//
// Prints "listening <smtp port> <control port>" once both accept connections.
"use strict";

const fs = require("node:fs");
const http = require("node:http");
const {SMTPServer} = require("smtp-server");

const smtpPort = Number(process.argv[2]);
const controlPort = Number(process.argv[3]);
const user = process.env.SMTP_USER || "";
const pass = process.env.SMTP_PASS || "";
const token = process.env.SMTP_CONTROL_TOKEN || "";
const keyFile = process.env.SMTP_TLS_KEY || "";
const certFile = process.env.SMTP_TLS_CERT || "";

for (const p of [smtpPort, controlPort]) {
    if (!Number.isInteger(p) || p <= 0 || p > 65535) {
        console.error("smtp-server: usage: node server.js SMTP_PORT CONTROL_PORT");
        process.exit(2);
    }
}

let messages = [];
let fail = {code: 0, times: 0};

const disabled = [];
if (!user) disabled.push("AUTH");
const options = {
    logger: false,
    banner: "tango test smtp-server",
    disabledCommands: disabled,
    authMethods: ["PLAIN", "LOGIN"],
    size: 10 * 1024 * 1024,
    onAuth(auth, session, callback) {
        if (auth.username === user && auth.password === pass) {
            return callback(null, {user: auth.username});
        }
        const err = new Error("Authentication failed");
        err.responseCode = 535;
        return callback(err);
    },
    onData(stream, session, callback) {
        const chunks = [];
        stream.on("data", (c) => chunks.push(c));
        stream.on("end", () => {
            if (fail.times > 0) {
                fail.times--;
                const err = new Error("Try again later (armed failure)");
                err.responseCode = fail.code;
                return callback(err);
            }
            messages.push({
                from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
                to: session.envelope.rcptTo.map((r) => r.address),
                raw: Buffer.concat(chunks).toString("utf8"),
                secure: Boolean(session.secure),
                user: session.user || "",
                at: new Date().toISOString(),
            });
            callback(null, "Message queued");
        });
    },
};
if (keyFile && certFile) {
    options.key = fs.readFileSync(keyFile);
    options.cert = fs.readFileSync(certFile);
} else {
    disabled.push("STARTTLS");
}

const smtp = new SMTPServer(options);
smtp.on("error", (err) => console.error("smtp-server:", err.message));

function send(res, status, body) {
    res.writeHead(status, {"Content-Type": "application/json"});
    res.end(JSON.stringify(body));
}

const control = http.createServer((req, res) => {
    if (token && req.headers.authorization !== "Bearer " + token) {
        return send(res, 401, {error: "unauthorized"});
    }
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
        if (req.method === "GET" && req.url === "/health") return send(res, 200, {ok: true});
        if (req.method === "GET" && req.url === "/messages") return send(res, 200, messages);
        if (req.method === "POST" && req.url === "/reset") {
            messages = [];
            fail = {code: 0, times: 0};
            return send(res, 200, {ok: true});
        }
        if (req.method === "POST" && req.url === "/fail") {
            try {
                const f = JSON.parse(body);
                fail = {code: Number(f.code) || 451, times: Number(f.times) || 0};
            } catch (e) {
                return send(res, 400, {error: String(e)});
            }
            return send(res, 200, fail);
        }
        send(res, 404, {error: "no such endpoint"});
    });
});

let ready = 0;
function listening() {
    if (++ready === 2) console.log(`listening ${smtpPort} ${controlPort}`);
}
smtp.listen(smtpPort, "127.0.0.1", listening);
control.listen(controlPort, "127.0.0.1", listening);

function stop() {
    control.close();
    smtp.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
