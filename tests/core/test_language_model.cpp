// The optional language model (core/language_model): what leaves for the provider (the
// patient's identifiers redacted, a grounded prompt), how its answers are read, what may
// never reach a patient, requests for medical advice, the circuit breaker (time passed in),
// and the generated reply of the conversation (core/conversation).

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/conversation.hpp"
#include "core/format.hpp"
#include "core/language_model.hpp"

using namespace atendeai::core;
using namespace date::literals;

namespace {

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

/// A small clinic: hours Mon–Fri 08:00–18:00, two priced services, one professional, two
/// FAQ entries (one with a price and a link, one with a time), a privacy policy link.
clinic_profile test_clinic() {
  clinic_profile c;
  c.id = "00000000-0000-4000-8000-0000000000c9";
  c.name = "Clínica Vida Plena";
  c.address = "Rua das Flores, 123 - Centro, São Paulo - SP";
  c.phone = "+55 11 3333-4444";
  for (int wd = 1; wd <= 5; ++wd)
    c.working_hours[wd] = {time_interval{8 * 60, 18 * 60}};

  service cardio;
  cardio.id = "svc-cardio";
  cardio.name = "Cardiologia";
  cardio.name_en = "Cardiology";
  cardio.duration_minutes = 30;
  cardio.price_cents = 35000;
  c.services.push_back(cardio);

  service derm;
  derm.id = "svc-derm";
  derm.name = "Dermatologia";
  derm.name_en = "Dermatology";
  derm.duration_minutes = 60;
  derm.price_cents = 25000;
  c.services.push_back(derm);

  professional carlos;
  carlos.id = "prof-carlos";
  carlos.name = "Dr. Carlos Lima";
  carlos.crm = "CRM-SP 123456";
  carlos.specialties = {"Cardiologia"};
  carlos.service_ids = {"svc-cardio"};
  c.professionals.push_back(carlos);

  faq_entry insurance;
  insurance.id = "faq-insurance";
  insurance.question = "Vocês aceitam convênio?";
  insurance.answer =
    "Aceitamos Unimed e Bradesco Saúde. O retorno custa R$ 50. Lista completa: https://exemplo.com.br/convenios";
  insurance.tags = {"insurance", "convênio", "unimed"};
  insurance.lang = "pt-BR";
  c.faq.push_back(insurance);

  faq_entry parking;
  parking.id = "faq-parking";
  parking.question = "Tem estacionamento?";
  parking.answer = "Sim, estacionamento gratuito, aberto a partir das 7h.";
  parking.tags = {"parking", "estacionamento"};
  parking.lang = "pt-BR";
  c.faq.push_back(parking);

  c.privacy.policy_url = "https://exemplo.com.br/privacidade";
  c.privacy.dpo_contact = "dpo@exemplo.com.br";
  return c;
}

circuit_breaker::clock::time_point at(int seconds) {
  return circuit_breaker::clock::time_point{} + std::chrono::seconds(seconds);
}

std::string repeated(const std::string& piece, int times) {
  std::string out;
  for (int k = 0; k < times; ++k)
    out += piece;
  return out;
}

} // namespace

// -- redact_personal_data ---

TEST_CASE("language_model: phone numbers and CPF are redacted in their usual forms", "[language_model]") {
  const std::vector<std::string> none;
  CHECK(redact_personal_data("Meu whatsapp é +55 11 98765-4321.", none) == "Meu whatsapp é [PHONE].");
  CHECK(redact_personal_data("ligue (11) 98765-4321 por favor", none) == "ligue [PHONE] por favor");
  CHECK(redact_personal_data("11987654321", none) == "[PHONE]");
  CHECK(redact_personal_data("meu número é 11987654321, obrigado", none) == "meu número é [PHONE], obrigado");
  CHECK(redact_personal_data("CPF 123.456.789-09", none) == "CPF [PHONE]");
  CHECK(redact_personal_data("cpf: 12345678909", none) == "cpf: [PHONE]");
}

TEST_CASE("language_model: short numbers are not taken for phone numbers", "[language_model]") {
  const std::vector<std::string> none;
  CHECK(redact_personal_data("às 14h", none) == "às 14h");
  CHECK(redact_personal_data("dia 25", none) == "dia 25");
  CHECK(redact_personal_data("2 consultas", none) == "2 consultas");
  CHECK(redact_personal_data("Quero 2 consultas no dia 25 às 14h", none) == "Quero 2 consultas no dia 25 às 14h");
  CHECK(redact_personal_data("dia 25/11 às 14:30", none) == "dia 25/11 às 14:30");
  CHECK(redact_personal_data("R$ 350,00", none) == "R$ 350,00");
}

TEST_CASE("language_model: e-mail addresses are redacted", "[language_model]") {
  const std::vector<std::string> none;
  CHECK(redact_personal_data("Meu e-mail é joao.silva+consultas@gmail.com, obrigado", none) ==
        "Meu e-mail é [EMAIL], obrigado");
  CHECK(redact_personal_data("maria@clinica.com.br", none) == "[EMAIL]");
  // Not an address: nothing before the @, or no dot after it.
  CHECK(redact_personal_data("me marca @ amanhã", none) == "me marca @ amanhã");
  CHECK(redact_personal_data("fulano@localhost", none) == "fulano@localhost");
}

TEST_CASE("language_model: the profile name is redacted case-insensitively, whole words only",
          "[language_model]") {
  CHECK(redact_personal_data("ANA quer remarcar; ana gosta de banana e Paula também", {"Ana Paula"}) ==
        "[NAME] quer remarcar; [NAME] gosta de banana e [NAME] também");
  CHECK(redact_personal_data("banana e mariana", {"Ana"}) == "banana e mariana");
  CHECK(redact_personal_data("Sou eu, João", {"João"}) == "Sou eu, [NAME]");
  // Words shorter than three letters are left alone.
  CHECK(redact_personal_data("Li vai ligar", {"Li"}) == "Li vai ligar");
}

TEST_CASE("language_model: self-introductions redact the name that follows", "[language_model]") {
  const std::vector<std::string> none;
  CHECK(redact_personal_data("Oi, meu nome é João Silva e quero marcar", none) ==
        "Oi, meu nome é [NAME] [NAME] e quero marcar");
  CHECK(redact_personal_data("me chamo maria", none) == "me chamo [NAME]");
  CHECK(redact_personal_data("Hello, my name is John Smith and I need a check-up", none) ==
        "Hello, my name is [NAME] [NAME] and I need a check-up");
  // Only capitalised words after the first belong to the name.
  CHECK(redact_personal_data("me chamo maria e quero marcar", none) == "me chamo [NAME] e quero marcar");
  // The introduced name is replaced wherever it appears again.
  CHECK(redact_personal_data("me chamo Pedro. O Pedro vai também", none) == "me chamo [NAME]. O [NAME] vai também");
}

TEST_CASE("language_model: every kind of identifier in one message", "[language_model]") {
  auto out = redact_personal_data("Oi, sou a Maria Souza, meu cpf é 123.456.789-09, fone (11) 98765-4321, "
                                  "e-mail maria.souza@gmail.com",
                                  {"Maria Souza"});
  CHECK(out == "Oi, sou a [NAME] [NAME], meu cpf é [PHONE], fone [PHONE], e-mail [EMAIL]");
  CHECK_FALSE(contains(out, "Maria"));
  CHECK_FALSE(contains(out, "98765"));
  CHECK_FALSE(contains(out, "gmail"));
}

// -- model_request_body ---

TEST_CASE("language_model: the request body asks for JSON at temperature 0", "[language_model]") {
  auto clinic = test_clinic();
  model_question q;
  q.model = "gpt-4o-mini";
  q.max_tokens = 300;
  q.lang = "pt-BR";
  q.today = 2026_y / 11 / 23;
  q.message = "Vocês aceitam Unimed?";
  auto body = model_request_body(clinic, q);
  CHECK(body.at("model").get<std::string>() == "gpt-4o-mini");
  CHECK(body.at("max_tokens").get<int>() == 300);
  REQUIRE(body.at("temperature").is_number());
  CHECK(body.at("temperature").get<double>() == 0.0);
  CHECK(body.at("response_format").at("type").get<std::string>() == "json_object");
  const auto& messages = body.at("messages");
  REQUIRE(messages.is_array());
  REQUIRE(messages.size() == 2u);
  CHECK(messages[1].at("role").get<std::string>() == "user");
  CHECK(messages[1].at("content").get<std::string>() == "Vocês aceitam Unimed?");
}

TEST_CASE("language_model: the system prompt carries the clinic's data", "[language_model]") {
  auto clinic = test_clinic();
  model_question q;
  q.model = "m";
  q.lang = "pt-BR";
  q.today = 2026_y / 11 / 23;
  q.message = "oi";
  auto body = model_request_body(clinic, q);
  const auto& first = body.at("messages").at(0);
  CHECK(first.at("role").get<std::string>() == "system");
  auto system = first.at("content").get<std::string>();
  CHECK(contains(system, "Clínica Vida Plena"));
  CHECK(contains(system, "Cardiologia"));
  CHECK(contains(system, "Dermatologia"));
  CHECK(format_price(35000, "pt-BR") == "R$ 350");
  CHECK(contains(system, format_price(35000, "pt-BR")));
  CHECK(contains(system, format_price(25000, "pt-BR")));
  CHECK(contains(system, clinic.faq[0].answer));
  CHECK(contains(system, clinic.faq[1].answer));
  CHECK(contains(system, "+55 11 3333-4444"));
  CHECK(contains(system, "Rua das Flores, 123"));
  CHECK(contains(system, "Dr. Carlos Lima"));
  CHECK(contains(system, "https://exemplo.com.br/privacidade"));
  CHECK(contains(system, "Today is 2026-11-23"));
  CHECK(contains(system, "Brazilian Portuguese"));
}

TEST_CASE("language_model: the prompt follows the patient's language and leaves out inactive services",
          "[language_model]") {
  auto clinic = test_clinic();
  service old;
  old.id = "svc-orto";
  old.name = "Ortopedia";
  old.price_cents = 99900;
  old.active = false;
  clinic.services.push_back(old);
  model_question q;
  q.model = "m";
  q.lang = "en";
  q.today = 2026_y / 11 / 23;
  q.message = "Do you take Unimed?";
  auto system = model_request_body(clinic, q).at("messages").at(0).at("content").get<std::string>();
  CHECK(contains(system, "Cardiology"));
  CHECK(contains(system, "Dermatology"));
  CHECK(contains(system, "in English"));
  CHECK_FALSE(contains(system, "Ortopedia"));
  CHECK_FALSE(contains(system, "R$ 999"));
}

TEST_CASE("language_model: history and message are redacted, history mapped to roles", "[language_model]") {
  auto clinic = test_clinic();
  model_question q;
  q.model = "m";
  q.lang = "pt-BR";
  q.today = 2026_y / 11 / 23;
  q.names = {"Maria Souza"};
  q.history = {{false, "me liga no 11 98765-4321 ou manda e-mail para maria.souza@gmail.com"},
               {true, "Claro! Como posso ajudar?"},
               {false, "Maria Souza aqui"}};
  q.message = "Oi, sou a Maria, meu celular é (11) 98765-4321";
  auto body = model_request_body(clinic, q);
  const auto& messages = body.at("messages");
  REQUIRE(messages.size() == 5u);
  CHECK(messages[0].at("role").get<std::string>() == "system");
  CHECK(messages[1].at("role").get<std::string>() == "user");
  CHECK(messages[1].at("content").get<std::string>() == "me liga no [PHONE] ou manda e-mail para [EMAIL]");
  CHECK(messages[2].at("role").get<std::string>() == "assistant");
  CHECK(messages[2].at("content").get<std::string>() == "Claro! Como posso ajudar?");
  CHECK(messages[3].at("role").get<std::string>() == "user");
  CHECK(messages[3].at("content").get<std::string>() == "[NAME] [NAME] aqui");
  CHECK(messages[4].at("role").get<std::string>() == "user");
  CHECK(messages[4].at("content").get<std::string>() == "Oi, sou a [NAME], meu celular é [PHONE]");
  CHECK(messages[4].at("content").get<std::string>() == redact_personal_data(q.message, q.names));
  // Nothing of the patient's identifiers anywhere in what is sent.
  auto sent = body.dump();
  CHECK_FALSE(contains(sent, "98765"));
  CHECK_FALSE(contains(sent, "4321"));
  CHECK_FALSE(contains(sent, "Maria"));
  CHECK_FALSE(contains(sent, "Souza"));
  CHECK_FALSE(contains(sent, "gmail"));
}

// -- read_completion ---

TEST_CASE("language_model: a completion is read with its usage", "[language_model]") {
  auto c = read_completion(
    R"({"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"{\"intent\":\"hours\"}"}}],)"
    R"("usage":{"prompt_tokens":120,"completion_tokens":15,"total_tokens":135}})");
  REQUIRE(c);
  CHECK(c->content == R"({"intent":"hours"})");
  CHECK(c->prompt_tokens == 120);
  CHECK(c->completion_tokens == 15);

  auto bare = read_completion(R"({"choices":[{"message":{"content":"oi"}}]})");
  REQUIRE(bare);
  CHECK(bare->content == "oi");
  CHECK(bare->prompt_tokens == 0);
  CHECK(bare->completion_tokens == 0);
}

TEST_CASE("language_model: what is not a completion is refused", "[language_model]") {
  CHECK_FALSE(read_completion(R"({"usage":{"prompt_tokens":1}})").has_value());
  CHECK_FALSE(read_completion(R"({"choices":[]})").has_value());
  CHECK_FALSE(read_completion(R"({"choices":{}})").has_value());
  CHECK_FALSE(read_completion(R"({"choices":[{"text":"oi"}]})").has_value());
  CHECK_FALSE(read_completion(R"({"choices":[{"message":{"content":null}}]})").has_value());
  CHECK_FALSE(read_completion(R"({"choices":[{"message":{"content":42}}]})").has_value());
  CHECK_FALSE(read_completion(R"({"choices":[{"message":{"content":["a"]}}]})").has_value());
  CHECK_FALSE(read_completion("not json").has_value());
  CHECK_FALSE(read_completion("").has_value());
  CHECK_FALSE(read_completion(R"([{"message":{"content":"oi"}}])").has_value());
}

// -- read_verdict ---

TEST_CASE("language_model: a booking verdict matches the service and reads date and time",
          "[language_model]") {
  auto clinic = test_clinic();
  auto v = read_verdict(
    R"({"intent":"book","known":false,"answer":"","service":"Cardiologia","date":"2026-12-10","time":"14:30"})",
    clinic);
  REQUIRE(v);
  CHECK(v->intent == intent::book);
  CHECK_FALSE(v->off_topic);
  CHECK_FALSE(v->medical_advice);
  REQUIRE(v->service.has_value());
  CHECK(*v->service == "svc-cardio");
  REQUIRE(v->date.has_value());
  CHECK(*v->date == 2026_y / 12 / 10);
  REQUIRE(v->time.has_value());
  CHECK(*v->time == 14 * 60 + 30);

  // The English name matches the same catalogue entry.
  auto en = read_verdict(R"({"intent":"book","known":false,"service":"Dermatology"})", clinic);
  REQUIRE(en);
  REQUIRE(en->service.has_value());
  CHECK(*en->service == "svc-derm");
}

TEST_CASE("language_model: every intent label is read", "[language_model]") {
  auto clinic = test_clinic();
  const std::pair<const char*, intent> labels[] = {
    {"greeting", intent::greeting},   {"book", intent::book},         {"reschedule", intent::reschedule},
    {"cancel", intent::cancel},       {"my_appointments", intent::my_appointments},
    {"hours", intent::hours},         {"services", intent::services}, {"location", intent::location},
    {"human", intent::human},         {"goodbye", intent::goodbye},   {"unknown", intent::unknown}};
  for (auto& [label, expected] : labels) {
    INFO(label);
    auto v = read_verdict(std::string(R"({"intent":")") + label + R"(","known":false})", clinic);
    REQUIRE(v);
    CHECK(v->intent == expected);
    CHECK_FALSE(v->off_topic);
    CHECK_FALSE(v->medical_advice);
    CHECK_FALSE(v->service.has_value());
    CHECK_FALSE(v->date.has_value());
    CHECK_FALSE(v->time.has_value());
  }
}

TEST_CASE("language_model: a clinic question keeps its topic and answer", "[language_model]") {
  auto clinic = test_clinic();
  auto v = read_verdict(
    R"({"intent":"clinic_question","topic":"insurance","known":true,"answer":"Aceitamos Unimed."})", clinic);
  REQUIRE(v);
  CHECK(v->intent == intent::clinic_question);
  CHECK(v->topic == "insurance");
  CHECK(v->known);
  CHECK(v->answer == "Aceitamos Unimed.");

  // Not known: an empty answer is fine (the rules answer it).
  auto unknown = read_verdict(R"({"intent":"clinic_question","topic":"parking","known":false,"answer":""})", clinic);
  REQUIRE(unknown);
  CHECK_FALSE(unknown->known);
  CHECK(unknown->answer.empty());

  // Claiming to know with an empty or missing answer is not usable.
  CHECK_FALSE(read_verdict(R"({"intent":"clinic_question","known":true,"answer":""})", clinic).has_value());
  CHECK_FALSE(read_verdict(R"({"intent":"clinic_question","known":true})", clinic).has_value());
}

TEST_CASE("language_model: off_topic and medical_advice are flags", "[language_model]") {
  auto clinic = test_clinic();
  auto off = read_verdict(R"({"intent":"off_topic","known":false,"answer":""})", clinic);
  REQUIRE(off);
  CHECK(off->off_topic);
  CHECK_FALSE(off->medical_advice);
  CHECK(off->intent == intent::unknown);

  auto med = read_verdict(R"({"intent":"medical_advice","known":false})", clinic);
  REQUIRE(med);
  CHECK(med->medical_advice);
  CHECK_FALSE(med->off_topic);
  CHECK(med->intent == intent::unknown);
}

TEST_CASE("language_model: a verdict wrapped in a code fence or prose is read", "[language_model]") {
  auto clinic = test_clinic();
  auto fenced = read_verdict("```json\n{\"intent\":\"hours\",\"known\":true}\n```", clinic);
  REQUIRE(fenced);
  CHECK(fenced->intent == intent::hours);
  CHECK(fenced->known);

  auto prose = read_verdict("Here it is: {\"intent\":\"location\",\"known\":false} hope it helps", clinic);
  REQUIRE(prose);
  CHECK(prose->intent == intent::location);
}

TEST_CASE("language_model: malformed verdicts are refused", "[language_model]") {
  auto clinic = test_clinic();
  CHECK_FALSE(read_verdict(R"({"intent":"schedule_now","known":false})", clinic).has_value());
  CHECK_FALSE(read_verdict(R"({"intent":"BOOK","known":false})", clinic).has_value());
  CHECK_FALSE(read_verdict(R"({"known":false})", clinic).has_value());
  CHECK_FALSE(read_verdict(R"({"intent":"hours","known":"yes"})", clinic).has_value());
  CHECK_FALSE(read_verdict(R"({"intent":"hours","known":1})", clinic).has_value());
  CHECK_FALSE(read_verdict(R"({"intent":3,"known":false})", clinic).has_value());
  CHECK_FALSE(read_verdict(R"({"intent":"book","service":5})", clinic).has_value());
  CHECK_FALSE(read_verdict(R"({"intent":"book","date":20261210})", clinic).has_value());
  CHECK_FALSE(read_verdict(R"({"intent":"book","time":["14:30"]})", clinic).has_value());
  CHECK_FALSE(read_verdict(R"({"intent":"unknown","answer":{"text":"x"}})", clinic).has_value());
  CHECK_FALSE(read_verdict("not json at all", clinic).has_value());
  CHECK_FALSE(read_verdict("", clinic).has_value());
  CHECK_FALSE(read_verdict(R"(["book"])", clinic).has_value());
}

TEST_CASE("language_model: missing and null fields keep their defaults", "[language_model]") {
  auto clinic = test_clinic();
  auto v = read_verdict(R"({"intent":"book","topic":null,"service":null,"date":null,"time":null})", clinic);
  REQUIRE(v);
  CHECK(v->intent == intent::book);
  CHECK_FALSE(v->known);
  CHECK(v->topic.empty());
  CHECK(v->answer.empty());
  CHECK_FALSE(v->service.has_value());
  CHECK_FALSE(v->date.has_value());
  CHECK_FALSE(v->time.has_value());
}

TEST_CASE("language_model: invalid dates, times and unknown services are dropped, not refused",
          "[language_model]") {
  auto clinic = test_clinic();
  auto v = read_verdict(
    R"({"intent":"book","known":false,"service":"Ortopedia","date":"2026-02-30","time":"25:00"})", clinic);
  REQUIRE(v);
  CHECK(v->intent == intent::book);
  CHECK_FALSE(v->service.has_value());
  CHECK_FALSE(v->date.has_value());
  CHECK_FALSE(v->time.has_value());

  auto w = read_verdict(R"({"intent":"book","date":"10/12/2026","time":"24:00"})", clinic);
  REQUIRE(w);
  CHECK_FALSE(w->date.has_value());
  CHECK_FALSE(w->time.has_value());

  auto x = read_verdict(R"({"intent":"book","date":"2026-13-01","time":"14:60"})", clinic);
  REQUIRE(x);
  CHECK_FALSE(x->date.has_value());
  CHECK_FALSE(x->time.has_value());

  // The edges of the day are valid.
  auto y = read_verdict(R"({"intent":"book","date":"2028-02-29","time":"23:59"})", clinic);
  REQUIRE(y);
  REQUIRE(y->date.has_value());
  CHECK(*y->date == 2028_y / 2 / 29);
  REQUIRE(y->time.has_value());
  CHECK(*y->time == 23 * 60 + 59);
  auto z = read_verdict(R"({"intent":"book","time":"00:00"})", clinic);
  REQUIRE(z);
  REQUIRE(z->time.has_value());
  CHECK(*z->time == 0);
}

// -- answer_violation ---

TEST_CASE("language_model: a grounded answer passes", "[language_model]") {
  auto clinic = test_clinic();
  CHECK(answer_violation("Aceitamos Unimed e Bradesco Saúde.", clinic) == "");
  CHECK(answer_violation("Sim, temos estacionamento gratuito no local.", clinic) == "");
  CHECK(answer_violation("We're open Monday to Friday, 8am to 6pm.", clinic) == "");
}

TEST_CASE("language_model: claiming a booking is a violation", "[language_model]") {
  auto clinic = test_clinic();
  CHECK(answer_violation("Pronto, agendei sua consulta para amanhã.", clinic) == "booking_claim");
  CHECK(answer_violation("Sua consulta está agendada!", clinic) == "booking_claim");
  CHECK(answer_violation("Cancelei o seu horário.", clinic) == "booking_claim");
  CHECK(answer_violation("I have booked you for Monday.", clinic) == "booking_claim");
  CHECK(answer_violation("Done, I've booked your appointment.", clinic) == "booking_claim");
  CHECK(answer_violation("Your appointment has been cancelled.", clinic) == "booking_claim");
}

TEST_CASE("language_model: only the clinic's prices may be quoted", "[language_model]") {
  auto clinic = test_clinic();
  CHECK(answer_violation("A consulta de Cardiologia custa R$ 350.", clinic) == "");
  CHECK(answer_violation("A consulta de Cardiologia custa R$ 350,00.", clinic) == "");
  CHECK(answer_violation("A Dermatologia custa R$250.", clinic) == "");
  CHECK(answer_violation("O retorno custa R$ 50, conforme a tabela.", clinic) == ""); // from the FAQ
  CHECK(answer_violation("A consulta custa 350 reais.", clinic) == "");
  CHECK(answer_violation("O retorno custa 50 reais.", clinic) == "");
  CHECK(answer_violation("A consulta custa R$ 999.", clinic) == "price");
  CHECK(answer_violation("A consulta custa R$ 350,50.", clinic) == "price");
  CHECK(answer_violation("A consulta custa 150 reais.", clinic) == "price");
  CHECK(answer_violation("A consulta custa R$ 1.200,00.", clinic) == "price");
}

TEST_CASE("language_model: only the clinic's hours and FAQ times may be stated", "[language_model]") {
  auto clinic = test_clinic();
  CHECK(answer_violation("Atendemos das 08:00 às 18:00.", clinic) == "");
  CHECK(answer_violation("Abrimos às 8h e fechamos às 18h.", clinic) == "");
  CHECK(answer_violation("O estacionamento abre às 7h.", clinic) == ""); // from the FAQ
  CHECK(answer_violation("Temos horário às 15h30.", clinic) == "availability");
  CHECK(answer_violation("Há uma vaga às 10:00.", clinic) == "availability");
  CHECK(answer_violation("There is a free slot at 3pm.", clinic) == "availability");
}

TEST_CASE("language_model: only the clinic's phone numbers and links may be given", "[language_model]") {
  auto clinic = test_clinic();
  CHECK(answer_violation("Ligue para (11) 99999-8888.", clinic) == "contact");
  CHECK(answer_violation("Nosso telefone é +55 11 3333-4444.", clinic) == "");
  CHECK(answer_violation("Ligue para (11) 3333-4444.", clinic) == "");
  CHECK(answer_violation("Veja os valores em https://outro-site.com/precos", clinic) == "contact");
  CHECK(answer_violation("Acesse www.outro-site.com.br para saber mais.", clinic) == "contact");
  CHECK(answer_violation("Nossa política de privacidade: https://exemplo.com.br/privacidade.", clinic) == "");
  CHECK(answer_violation("A lista de convênios está em https://exemplo.com.br/convenios", clinic) == "");
}

TEST_CASE("language_model: empty and overlong answers are refused", "[language_model]") {
  auto clinic = test_clinic();
  CHECK(answer_violation("", clinic) == "length");
  CHECK(answer_violation("   \n\t", clinic) == "length");
  CHECK(answer_violation(std::string(1000, 'a'), clinic) == "");
  CHECK(answer_violation(std::string(1001, 'a'), clinic) == "length");
  // Counted in characters, not bytes.
  CHECK(answer_violation(repeated("ã", 1000), clinic) == "");
  CHECK(answer_violation(repeated("ã", 1001), clinic) == "length");
}

// -- reads_medical_advice ---

TEST_CASE("language_model: requests for medical advice are recognised", "[language_model]") {
  CHECK(reads_medical_advice("posso tomar dipirona?"));
  CHECK(reads_medical_advice("Qual a dose de amoxicilina para criança?"));
  CHECK(reads_medical_advice("qual remédio eu tomo pra dor de cabeça"));
  CHECK(reads_medical_advice("Estou com dor no peito, é grave?"));
  CHECK(reads_medical_advice("What medicine should I take?"));
  CHECK(reads_medical_advice("Can I take ibuprofen?"));
  CHECK(reads_medical_advice("is it serious?"));
}

TEST_CASE("language_model: ordinary clinic messages are not medical advice", "[language_model]") {
  CHECK_FALSE(reads_medical_advice("quero marcar consulta"));
  CHECK_FALSE(reads_medical_advice("vocês aceitam Unimed?"));
  CHECK_FALSE(reads_medical_advice("Qual o horário de vocês?"));
  CHECK_FALSE(reads_medical_advice("I want to book an appointment"));
  CHECK_FALSE(reads_medical_advice(""));
}

TEST_CASE("language_model: built-in texts exist in both languages", "[language_model]") {
  CHECK(medical_advice_text(false) != medical_advice_text(true));
  CHECK_FALSE(medical_advice_text(true).empty());
  CHECK_FALSE(voice_note_text(false).empty());
  CHECK_FALSE(media_too_large_text(true).empty());
  // The built-in texts pass the guardrails themselves.
  auto clinic = test_clinic();
  CHECK(answer_violation(medical_advice_text(false), clinic) == "");
  CHECK(answer_violation(medical_advice_text(true), clinic) == "");
}

// -- circuit_breaker ---

TEST_CASE("language_model: a closed breaker allows calls and stays closed below the limit", "[language_model]") {
  circuit_breaker cb(3, std::chrono::seconds(30));
  CHECK(cb.current(at(100)) == circuit_breaker::state::closed);
  CHECK(cb.allow(at(100)));
  cb.failed(at(101));
  cb.failed(at(102));
  CHECK(cb.current(at(102)) == circuit_breaker::state::closed);
  CHECK(cb.allow(at(102)));
  // A success resets the count: failures must come in a row.
  cb.succeeded();
  cb.failed(at(103));
  cb.failed(at(104));
  CHECK(cb.current(at(104)) == circuit_breaker::state::closed);
  CHECK(cb.allow(at(104)));
}

TEST_CASE("language_model: N failures open the breaker for the cooldown, then one trial", "[language_model]") {
  circuit_breaker cb(3, std::chrono::seconds(30));
  cb.failed(at(100));
  cb.failed(at(101));
  cb.failed(at(102)); // opened at 102
  CHECK(cb.current(at(102)) == circuit_breaker::state::open);
  CHECK_FALSE(cb.allow(at(102)));
  CHECK_FALSE(cb.allow(at(131)));
  CHECK(cb.current(at(131)) == circuit_breaker::state::open);

  // Cooldown over: half open, exactly one caller gets through.
  CHECK(cb.current(at(132)) == circuit_breaker::state::half_open);
  CHECK(cb.allow(at(132)));
  CHECK(cb.current(at(132)) == circuit_breaker::state::half_open);
  CHECK_FALSE(cb.allow(at(132)));
  CHECK_FALSE(cb.allow(at(200)));

  // Its success closes the breaker.
  cb.succeeded();
  CHECK(cb.current(at(200)) == circuit_breaker::state::closed);
  CHECK(cb.allow(at(200)));
  CHECK(cb.allow(at(200)));
}

TEST_CASE("language_model: a failed trial opens the breaker again", "[language_model]") {
  circuit_breaker cb(2, std::chrono::seconds(10));
  cb.failed(at(0));
  cb.failed(at(1)); // opened at 1
  CHECK(cb.current(at(5)) == circuit_breaker::state::open);
  REQUIRE(cb.allow(at(11)));
  cb.failed(at(12)); // the trial failed: open again from 12
  CHECK(cb.current(at(12)) == circuit_breaker::state::open);
  CHECK_FALSE(cb.allow(at(13)));
  CHECK_FALSE(cb.allow(at(21)));
  CHECK(cb.current(at(22)) == circuit_breaker::state::half_open);
  CHECK(cb.allow(at(22)));
  CHECK_FALSE(cb.allow(at(22)));
  cb.succeeded();
  CHECK(cb.current(at(22)) == circuit_breaker::state::closed);
}

TEST_CASE("language_model: a single-failure breaker opens at once", "[language_model]") {
  circuit_breaker cb(1, std::chrono::milliseconds(500));
  auto t0 = circuit_breaker::clock::time_point{} + std::chrono::seconds(50);
  cb.failed(t0);
  CHECK(cb.current(t0) == circuit_breaker::state::open);
  CHECK_FALSE(cb.allow(t0 + std::chrono::milliseconds(499)));
  CHECK(cb.allow(t0 + std::chrono::milliseconds(500)));
}

TEST_CASE("language_model: breaker state labels", "[language_model]") {
  CHECK(std::string(to_string(circuit_breaker::state::closed)) == "closed");
  CHECK(std::string(to_string(circuit_breaker::state::open)) == "open");
  CHECK(std::string(to_string(circuit_breaker::state::half_open)) == "half_open");
}

// -- generated_reply ---

TEST_CASE("language_model: a generated reply is sent as written and counts as understood", "[language_model]") {
  auto clinic = test_clinic();
  understanding u;
  u.intent = intent::unknown;
  u.lang = "en";
  conversation_state state;
  state.lang = "pt-BR";
  state.unknown_streak = 2;
  state.human_offered = true;
  auto d = generated_reply(u, clinic, state, "We accept Unimed and Bradesco Saúde.");
  REQUIRE(d.reply);
  CHECK(d.reply->text == "We accept Unimed and Bradesco Saúde.");
  CHECK(d.reply->generated);
  CHECK(d.reply->choices.empty());
  CHECK(d.reply->style == choice_style::none);
  CHECK_FALSE(d.handoff_started);
  CHECK(state.unknown_streak == 0);
  CHECK_FALSE(state.human_offered);
  CHECK_FALSE(state.handoff);
  CHECK(state.lang == "en");
}

TEST_CASE("language_model: a Portuguese message keeps the clinic's language", "[language_model]") {
  auto clinic = test_clinic();
  understanding u;
  u.lang = "pt-BR";
  conversation_state state;
  state.lang = "en";
  auto d = generated_reply(u, clinic, state, "Aceitamos Unimed.");
  REQUIRE(d.reply);
  CHECK(d.reply->generated);
  CHECK(state.lang == "pt-BR");
}

TEST_CASE("language_model: no generated reply during a hand-over", "[language_model]") {
  auto clinic = test_clinic();
  understanding u;
  u.lang = "en";
  conversation_state state;
  state.handoff = true;
  state.unknown_streak = 2;
  state.lang = "pt-BR";
  auto d = generated_reply(u, clinic, state, "We accept Unimed.");
  CHECK_FALSE(d.reply.has_value());
  CHECK_FALSE(d.handoff_started);
  CHECK(state.handoff);
  CHECK(state.unknown_streak == 2);
  CHECK(state.lang == "pt-BR");
}

TEST_CASE("language_model: ordinary questions are not medical advice, and clock times read as written",
          "[language_model]") {
  CHECK_FALSE(reads_medical_advice("O que eu tenho que levar para a consulta?"));
  CHECK_FALSE(reads_medical_advice("What do I have to bring?"));
  CHECK_FALSE(reads_medical_advice("Vocês fazem diagnóstico por imagem?"));
  auto clinic = test_clinic();
  CHECK(answer_violation("We're open from 8:00 am to 6:00 pm.", clinic).empty());
  CHECK(answer_violation("Temos vaga às 15 horas.", clinic) == "availability");
  CHECK(answer_violation("Temos vaga às 15 h.", clinic) == "availability");
  CHECK(answer_violation("A consulta dura 1 hora.", clinic).empty()); // a duration, not a time
}

TEST_CASE("language_model: dates stay, and a self-introduction redacts only the name", "[language_model]") {
  const std::vector<std::string> none;
  CHECK(redact_personal_data("Quero marcar para 25/11/2026 às 14h", none) == "Quero marcar para 25/11/2026 às 14h");
  CHECK(redact_personal_data("I'm looking for a dermatologist", none) == "I'm looking for a dermatologist");
  CHECK(redact_personal_data("This is urgent", none) == "This is urgent");
  CHECK(redact_personal_data("me chamo Pedro. Amanhã posso ir?", none) == "me chamo [NAME]. Amanhã posso ir?");
  CHECK(redact_personal_data("sou a Maria Souza, CPF 123.456.789-09", none) == "sou a [NAME] [NAME], CPF [PHONE]");
}
