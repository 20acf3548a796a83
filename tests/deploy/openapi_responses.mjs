// Drives a running node through its API and validates every real response against
// api/openapi.yaml: the status must be one the operation documents, the body must match
// that response's schema (ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses), the content
// type must be the documented one. Run in the tools folder (deploy/common.sh: install_tools):
//   node openapi_responses.mjs SPEC BASE_URL SUPER_EMAIL SUPER_PASSWORD ADMIN_EMAIL ADMIN_PASSWORD APP_SECRET
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(process.cwd() + "/");
const { parse } = require("yaml");
const Ajv2020 = require("ajv/dist/2020").default;
const addFormats = require("ajv-formats").default;

const [specFile, base, superEmail, superPassword, adminEmail, adminPassword, appSecret] = process.argv.slice(2);
const spec = parse(readFileSync(specFile, "utf8"));
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
const SPEC_ID = "https://atendeai.invalid/openapi.json";
ajv.addSchema({ ...spec, $id: SPEC_ID });
const validators = new Map();
// The validator of the schema at a JSON pointer of the contract (refs resolve in it).
function validatorAt(ptr) {
  if (!validators.has(ptr)) validators.set(ptr, ajv.compile({ $ref: SPEC_ID + ptr }));
  return validators.get(ptr);
}

const pointer = (...parts) => "#/" + parts.map((p) => String(p).replaceAll("~", "~0").replaceAll("/", "~1")).join("/");
const templates = Object.keys(spec.paths).map((t) => ({
  t,
  re: new RegExp("^" + t.replace(/\{[^}]+\}/g, "[^/]+") + "$"),
  literal: !t.includes("{"),
}));
// A concrete path's template (literal paths first: /users/x vs /users/{id}).
const templateOf = (path) =>
  (templates.find((x) => x.literal && x.re.test(path)) ?? templates.find((x) => x.re.test(path)))?.t;

let checked = 0, failed = 0;
const seen = new Set();
function check(what, ok, detail) {
  if (ok) return true;
  failed++;
  console.error(`FAIL ${what}: ${detail}`);
  return false;
}

async function call(method, url, { token, body, headers = {}, raw } = {}) {
  const path = new URL(url, base).pathname;
  const init = { method, headers: { ...headers } };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (raw !== undefined) init.body = raw;
  else if (body !== undefined) { init.body = JSON.stringify(body); init.headers["Content-Type"] = "application/json"; }
  const res = await fetch(new URL(url, base), init);
  const text = await res.text();
  const t = templateOf(path);
  const what = `${method} ${path} → ${res.status}`;
  checked++;
  if (!check(what, t, "no path of the contract matches")) return { status: res.status, text };
  const op = spec.paths[t][method.toLowerCase()];
  if (!check(what, op, `${t} documents no ${method}`)) return { status: res.status, text };
  let response = op.responses[String(res.status)];
  let where = ["paths", t, method.toLowerCase(), "responses", String(res.status)];
  if (!check(what, response, `status not documented (documented: ${Object.keys(op.responses).join(", ")})`))
    return { status: res.status, text };
  if (response.$ref) { where = response.$ref.slice(2).split("/"); response = spec.components.responses[where.at(-1)]; }
  const type = (res.headers.get("content-type") ?? "").split(";")[0];
  const content = response.content ?? {};
  check(what, content[type], `content type ${type} not documented (${Object.keys(content).join(", ")})`);
  check(what, res.headers.get("x-request-id"), "no X-Request-Id");
  let json;
  if (type === "application/json") {
    try { json = JSON.parse(text); } catch { check(what, false, "body is not JSON"); return { status: res.status, text }; }
    if (content[type]?.schema) {
      const validate = validatorAt(pointer(...where, "content", type, "schema"));
      if (!validate(json)) check(what, false, ajv.errorsText(validate.errors) + "\n  body: " + text.slice(0, 400));
    }
  }
  seen.add(`${method} ${t} ${res.status}`);
  return { status: res.status, json, text };
}

const expect = (r, status, what) => check(what, r.status === status, `expected ${status}, got ${r.status}: ${r.text.slice(0, 300)}`);
const A = "/api/v1";

// -- anyone ---------------------------------------------------------------------------
expect(await call("GET", "/health"), 200, "health");
const specResponse = await call("GET", `${A}/openapi.yaml`);
expect(specResponse, 200, "openapi.yaml");
check("openapi.yaml", parse(specResponse.text).openapi === "3.1.0", "not an OpenAPI 3.1 document");
expect(await call("GET", "/metrics"), 200, "metrics");
expect(await call("GET", "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1"), 403, "verify refused");
const hook = JSON.stringify({
  object: "whatsapp_business_account",
  entry: [{ id: "waba", changes: [{ field: "messages", value: {
    messaging_product: "whatsapp", metadata: { display_phone_number: "5511300000000", phone_number_id: "demo-phone-number-id" },
    contacts: [{ profile: { name: "Contrato" }, wa_id: "5511912340000" }],
    messages: [{ from: "5511912340000", id: `wamid.contract.${Date.now()}`, timestamp: String(Math.floor(Date.now() / 1000)),
      type: "text", text: { body: "oi, quais os horários?" } }] } }] }],
});
const sig = "sha256=" + createHmac("sha256", appSecret).update(hook).digest("hex");
expect(await call("POST", "/webhooks/whatsapp", { raw: hook, headers: { "Content-Type": "application/json", "X-Hub-Signature-256": sig } }), 200, "webhook");
expect(await call("POST", "/webhooks/whatsapp", { raw: hook, headers: { "Content-Type": "application/json", "X-Hub-Signature-256": "sha256=00" } }), 401, "webhook unsigned");
expect(await call("POST", "/webhooks/whatsapp", { raw: "{}", headers: { "Content-Type": "application/json", "X-Hub-Signature-256": "sha256=" + createHmac("sha256", appSecret).update("{}").digest("hex") } }), 400, "webhook malformed");

// -- auth -------------------------------------------------------------------------------
expect(await call("POST", `${A}/auth/login`, { body: { email: adminEmail, password: "wrong-password" } }), 401, "login refused");
const superLogin = await call("POST", `${A}/auth/login`, { body: { email: superEmail, password: superPassword } });
expect(superLogin, 200, "login");
const login = await call("POST", `${A}/auth/login`, { body: { email: adminEmail, password: adminPassword } });
expect(login, 200, "login");
const su = superLogin.json.access_token, tok = login.json.access_token;
expect(await call("POST", `${A}/auth/refresh`, { body: { refresh_token: login.json.refresh_token } }), 200, "refresh");
expect(await call("POST", `${A}/auth/forgot-password`, { body: { email: "nobody@example.com" } }), 202, "forgot");
const profile = await call("GET", `${A}/auth/profile`, { token: tok });
expect(profile, 200, "profile");
expect(await call("GET", `${A}/auth/profile`), 401, "profile without token");
const clinic = profile.json.clinic_id;
const C = `${A}/clinics/${clinic}`;

// -- users and audit ----------------------------------------------------------------------
const users = await call("GET", `${A}/users`, { token: tok });
expect(users, 200, "users");
expect(await call("GET", `${A}/users/${profile.json.id}`, { token: tok }), 200, "user");
expect(await call("GET", `${A}/users/${profile.json.id}/activity`, { token: tok }), 200, "activity");
const created = await call("POST", `${A}/users`, { token: tok, body: { email: `contract${Date.now()}@example.com`, password: "a-long-password-1", name: "Contrato", role: "attendant", clinic_id: clinic } });
expect(created, 201, "user create");
expect(await call("PUT", `${A}/users/${created.json.id}/status`, { token: tok, body: { status: "disabled" } }), 200, "user status");
expect(await call("POST", `${A}/users`, { token: tok, body: { email: "not-an-email", password: "x", role: "attendant" } }), 422, "user invalid");
expect(await call("GET", `${A}/audit?per_page=5`, { token: tok }), 200, "audit");
expect(await call("GET", `${A}/audit?bogus=1`, { token: tok }), 422, "audit unknown parameter");

// -- clinics and catalogue --------------------------------------------------------------------
expect(await call("GET", `${A}/clinics`, { token: tok }), 200, "clinics");
expect(await call("GET", C, { token: tok }), 200, "clinic");
expect(await call("GET", `${C}/context`, { token: tok }), 200, "context");
expect(await call("GET", `${C}/working-hours`, { token: tok }), 200, "hours");
expect(await call("GET", `${C}/channels`, { token: tok }), 200, "channels");
expect(await call("GET", `${A}/clinics/00000000-0000-0000-0000-000000000000`, { token: tok }), 404, "another clinic");
expect(await call("POST", `${A}/clinics`, { token: tok, body: { name: "X" } }), 403, "clinic create by a clinic admin");
const services = await call("GET", `${C}/services`, { token: tok });
expect(services, 200, "services");
const service = services.json.items.find((s) => s.active);
expect(await call("GET", `${C}/services/${service.id}`, { token: tok }), 200, "service");
expect(await call("POST", `${C}/services`, { token: tok, body: { name: "Contrato", duration_minutes: -5 } }), 422, "service invalid");
const svc = await call("POST", `${C}/services`, { token: tok, body: { name: `Contrato ${Date.now()}`, duration_minutes: 60, price: 10 } });
expect(svc, 201, "service create");
expect(await call("DELETE", `${C}/services/${svc.json.id}`, { token: tok }), 200, "service delete");
const pros = await call("GET", `${C}/professionals`, { token: tok });
expect(pros, 200, "professionals");
const pro = pros.json.items.find((p) => p.active && p.service_ids.includes(service.id));
expect(await call("GET", `${C}/professionals/${pro.id}`, { token: tok }), 200, "professional");
expect(await call("GET", `${C}/professionals/${pro.id}/absences`, { token: tok }), 200, "absences");
const absence = await call("POST", `${C}/professionals/${pro.id}/absences`, { token: tok, body: { starts_at: "2030-01-07T08:00:00-03:00", ends_at: "2030-01-07T12:00:00-03:00", reason: "congresso" } });
expect(absence, 201, "absence create");
expect(await call("DELETE", `${C}/professionals/${pro.id}/absences/${absence.json.id}`, { token: tok }), 200, "absence delete");
expect(await call("GET", `${C}/closures`, { token: tok }), 200, "closures");
const closure = await call("POST", `${C}/closures`, { token: tok, body: { starts_on: "2030-12-24", ends_on: "2030-12-26", reason: "Natal" } });
expect(closure, 201, "closure create");
expect(await call("DELETE", `${C}/closures/${closure.json.id}`, { token: tok }), 200, "closure delete");
const faq = await call("POST", `${C}/faq`, { token: tok, body: { question: "Aceitam convênio?", answer: "Sim, Amil.", tags: ["insurance"], lang: "pt-BR" } });
expect(faq, 201, "faq create");
expect(await call("GET", `${C}/faq`, { token: tok }), 200, "faq list");
expect(await call("PATCH", `${C}/faq/${faq.json.id}`, { token: tok, body: { answer: "Sim, Amil e Bradesco." } }), 200, "faq patch");
expect(await call("GET", `${C}/faq/${faq.json.id}`, { token: tok }), 200, "faq get");
expect(await call("DELETE", `${C}/faq/${faq.json.id}`, { token: tok }), 200, "faq delete");
const templateBody = { name: `contrato_${Date.now()}`, language: "pt_BR", category: "utility", body: "Olá {{1}}, sua consulta é {{2}}.", buttons: ["Confirmar", "Cancelar"] };
const templ = await call("POST", `${C}/templates`, { token: tok, body: templateBody });
expect(templ, 201, "template create");
check("template create", templ.json?.parameters === 2, `parameters ${templ.json?.parameters}, expected 2`);
const templDup = await call("POST", `${C}/templates`, { token: tok, body: { ...templateBody, body: "Outro {{1}}" } });
expect(templDup, 409, "template duplicate");
check("template duplicate", templDup.json?.error?.field === "name", `field ${templDup.json?.error?.field}, expected name`);
expect(await call("POST", `${C}/templates`, { token: tok, body: { ...templateBody, name: "Com Espaço" } }), 422, "template invalid");
expect(await call("GET", `${C}/templates`, { token: tok }), 200, "templates");
expect(await call("GET", `${C}/templates/${templ.json.id}`, { token: tok }), 200, "template");
expect(await call("PUT", `${C}/templates/${templ.json.id}`, { token: tok, body: { body: "Olá {{1}}!", buttons: [] } }), 200, "template update");
expect(await call("DELETE", `${C}/templates/${templ.json.id}`, { token: tok }), 200, "template delete");
expect(await call("GET", `${C}/templates/${templ.json.id}`, { token: tok }), 404, "template gone");
const reminders = await call("GET", `${C}/reminders`, { token: tok });
expect(reminders, 200, "reminders");
expect(await call("PUT", `${C}/reminders`, { token: tok, body: { offsets_minutes: [2880, 60], quiet_hours: { start: "22:00", end: "07:30" }, notify_staff_changes: { moved: false }, no_show_after_minutes: 30 } }), 200, "reminders update");
const repeated = await call("PUT", `${C}/reminders`, { token: tok, body: { offsets_minutes: [60, 60] } });
expect(repeated, 422, "reminders repeated offset");
check("reminders repeated offset", repeated.json?.error?.field === "offsets_minutes[1]", `field ${repeated.json?.error?.field}, expected offsets_minutes[1]`);
const unregistered = await call("PUT", `${C}/reminders`, { token: tok, body: { template: { name: "nao_registrado", language: "pt_BR" } } });
expect(unregistered, 422, "reminders unregistered template");
check("reminders unregistered template", unregistered.json?.error?.field === "template.name", `field ${unregistered.json?.error?.field}, expected template.name`);
// Back to the clinic's settings before the agenda below plans reminders and notices.
const { offsets_minutes, quiet_hours, notify_staff_changes, no_show_after_minutes } = reminders.json;
expect(await call("PUT", `${C}/reminders`, { token: tok, body: { offsets_minutes, quiet_hours, notify_staff_changes, no_show_after_minutes } }), 200, "reminders restored");

// -- waitlist (entries come from the chat: tests/integration/test_waitlist.cpp) ----------------
expect(await call("GET", `${C}/waitlist`, { token: tok }), 200, "waitlist");
const badStatus = await call("GET", `${C}/waitlist?status=maybe`, { token: tok });
expect(badStatus, 422, "waitlist bad status");
check("waitlist bad status", badStatus.json?.error?.field === "status", `field ${badStatus.json?.error?.field}, expected status`);
expect(await call("GET", `${C}/waitlist/00000000-0000-4000-8000-000000000000`, { token: tok }), 404, "waitlist entry unknown");
expect(await call("DELETE", `${C}/waitlist/00000000-0000-4000-8000-000000000000`, { token: tok }), 404, "waitlist remove unknown");

// -- agenda -------------------------------------------------------------------------------------
const day = (n) => new Date(Date.now() + n * 86400000).toISOString().slice(0, 10);
const slots = await call("GET", `${C}/slots?service_id=${service.id}&professional_id=${pro.id}&from=${day(2)}&to=${day(12)}`, { token: tok });
expect(slots, 200, "slots");
const appt = await call("POST", `${C}/appointments`, { token: tok, body: { service_id: service.id, professional_id: pro.id, starts_at: slots.json.slots[0].starts_at, patient: { phone: "+55 11 98888-0001", name: "Contrato" } } });
expect(appt, 201, "appointment create");
// -- LGPD: the clinic's privacy settings and a patient's data ------------------------------------
expect(await call("GET", `${C}/privacy`, { token: tok }), 200, "privacy");
expect(await call("PUT", `${C}/privacy`, { token: tok, body: { dpo_contact: "dpo@clinica.example", policy_url: "https://clinica.example/lgpd" } }), 200, "privacy update");
const badBasis = await call("PUT", `${C}/privacy`, { token: tok, body: { legal_basis: "maybe" } });
expect(badBasis, 422, "privacy bad basis");
check("privacy bad basis", badBasis.json?.error?.field === "legal_basis", `field ${badBasis.json?.error?.field}, expected legal_basis`);
expect(await call("GET", `${C}/contacts/${appt.json.patient.contact_id}/export`, { token: tok }), 200, "contact export");
expect(await call("GET", `${C}/contacts/00000000-0000-4000-8000-000000000000/export`, { token: tok }), 404, "contact export unknown");
expect(await call("POST", `${C}/appointments`, { token: tok, body: { service_id: service.id, professional_id: pro.id, starts_at: slots.json.slots[0].starts_at, patient: { phone: "+55 11 98888-0002" } } }), 409, "slot taken");
expect(await call("GET", `${C}/appointments/${appt.json.id}`, { token: tok }), 200, "appointment");
expect(await call("GET", `${C}/appointments?per_page=5`, { token: tok }), 200, "appointments");
expect(await call("POST", `${C}/appointments/${appt.json.id}/reschedule`, { token: tok, body: { starts_at: slots.json.slots[1].starts_at } }), 200, "reschedule");
expect(await call("POST", `${C}/appointments/${appt.json.id}/cancel`, { token: tok, body: { reason: "contrato" } }), 200, "cancel");
expect(await call("POST", `${C}/appointments/${appt.json.id}/attended`, { token: tok }), 409, "attended after cancel");
const patientOf = `${C}/contacts/${appt.json.patient.contact_id}`;
expect(await call("GET", `${patientOf}/appointments`, { token: tok }), 200, "patient history");
expect(await call("GET", `${patientOf}/appointments?status=late`, { token: tok }), 422, "patient history status");
expect(await call("GET", `${C}/contacts/00000000-0000-4000-8000-000000000000/appointments`, { token: tok }), 404, "no such patient");
expect(await call("PUT", `${patientOf}/opt-in`, { token: tok, body: { source: "ficha na recepção" } }), 200, "opt-in");
expect(await call("PUT", `${patientOf}/opt-in`, { token: tok, body: {} }), 422, "opt-in without source");
expect(await call("DELETE", `${patientOf}/opt-in`, { token: tok }), 200, "opt-in withdrawn");

// -- inbox and inspection ------------------------------------------------------------------------
// The conversation of the patient who wrote above (staff bookings open others: their notices).
let conversations, written;
for (let i = 0; i < 50; i++) {
  conversations = await call("GET", `${C}/conversations`, { token: tok });
  written = conversations.json?.items?.find((c) => c.contact?.phone === "5511912340000");
  if (written) break;
  await new Promise((r) => setTimeout(r, 200));
}
expect(conversations, 200, "conversations");
const cid = written.id;
const conversation = await call("GET", `${C}/conversations/${cid}`, { token: tok });
expect(conversation, 200, "conversation");
check("conversation", typeof conversation.json?.window_open_until === "string", `window_open_until ${conversation.json?.window_open_until}, expected the end of the open window`);
expect(await call("GET", `${C}/conversations/${cid}/messages`, { token: tok }), 200, "messages");
expect(await call("POST", `${C}/conversations/${cid}/messages`, { token: tok, body: { text: "Olá, aqui é a recepção." } }), 201, "staff reply");
// A template the demo clinic has registered (aviso_consulta: {{1}} the first name, {{2}} the news).
const templated = await call("POST", `${C}/conversations/${cid}/messages`, { token: tok, body: { template: { name: "aviso_consulta", language: "pt_BR", parameters: ["Contrato", "Sua consulta foi remarcada."] } } });
expect(templated, 201, "staff template message");
check("staff template message", templated.json?.template?.name === "aviso_consulta", `template ${JSON.stringify(templated.json?.template)}`);
const notRegistered = await call("POST", `${C}/conversations/${cid}/messages`, { token: tok, body: { template: { name: "nao_registrado", language: "pt_BR" } } });
expect(notRegistered, 422, "staff template not registered");
check("staff template not registered", notRegistered.json?.error?.field === "template.name", `field ${notRegistered.json?.error?.field}, expected template.name`);
expect(await call("POST", `${C}/conversations/${cid}/release`, { token: tok }), 200, "release");
expect(await call("POST", `${C}/conversations/${cid}/release`, { token: tok }), 409, "release again");
expect(await call("GET", `${A}/admin/nodes`, { token: su }), 200, "nodes");
expect(await call("GET", `${A}/admin/actors`, { token: su }), 200, "actors");
expect(await call("GET", `${A}/admin/nodes`, { token: tok }), 403, "nodes by a clinic admin");
expect(await call("GET", `${A}/admin/clinics/${clinic}/actors`, { token: tok }), 200, "clinic actors");
expect(await call("GET", `${A}/admin/conversations/${cid}`, { token: tok }), 200, "conversation actor");
const flow = await call("GET", `${A}/admin/flows/${cid}`, { token: tok });
check("flow", [200, 404].includes(flow.status), `status ${flow.status}`);
expect(await call("POST", `${A}/auth/logout`, { token: tok }), 200, "logout");

console.log(`${checked} responses checked against the contract (${seen.size} distinct operation/status pairs), ${failed} failures`);
process.exit(failed ? 1 : 0);
