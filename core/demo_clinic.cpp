#include "core/demo_clinic.hpp"

namespace atendeai::core {

clinic_profile demo_clinic() {
  clinic_profile c;
  c.id = demo_clinic_id;
  c.name = "Clínica Exemplo";
  c.timezone = "America/Sao_Paulo";
  c.language = "pt-BR";
  c.address = "Rua Exemplo, 123 — Centro, São Paulo/SP";
  c.phone = "+55 11 3000-0000";
  c.ai_personality.name = "Sofia";
  c.ai_personality.tone = "friendly";
  c.ai_personality.formality_level = "low";
  c.ai_personality.greeting = "Olá! Eu sou a Sofia, assistente da Clínica Exemplo 😊 Como posso ajudar?";
  c.ai_personality.farewell = "Obrigada pelo contato! Até logo 💙";
  for (int d = 1; d <= 5; ++d)
    c.working_hours[d] = {{8 * 60, 18 * 60}};
  c.working_hours[6] = {{8 * 60, 12 * 60}};
  c.policy = {2, 30, 60, 8};
  c.services = {
    {demo_service_clinico_id, "Clínico geral", 60, 20000, true, "General practice"},
    {demo_service_cardio_id, "Cardiologia", 60, 35000, true, "Cardiology"},
    {demo_service_dermato_id, "Dermatologia", 60, 30000, true, "Dermatology"},
  };
  professional ana;
  ana.id = demo_professional_ana_id;
  ana.name = "Dra. Ana Souza";
  ana.crm = "CRM-SP 123456";
  ana.specialties = {"Cardiologia", "Clínico geral"};
  ana.service_ids = {c.services[1].id, c.services[0].id};
  professional carlos;
  carlos.id = demo_professional_carlos_id;
  carlos.name = "Dr. Carlos Lima";
  carlos.crm = "CRM-SP 654321";
  carlos.specialties = {"Dermatologia", "Clínico geral"};
  carlos.service_ids = {c.services[2].id, c.services[0].id};
  c.professionals = {ana, carlos};
  return c;
}

std::vector<message_template> demo_templates() {
  return {
    {demo_template_reminder_pt_id, demo_reminder_template_name, "pt_BR", "utility",
     "Olá {{1}}! Lembrete da sua consulta de {{2}} com {{3}} em {{4}}, no endereço {{5}}. Podemos confirmar?",
     {"Confirmar", "Remarcar", "Cancelar"}},
    {demo_template_reminder_en_id, demo_reminder_template_name, "en_US", "utility",
     "Hello {{1}}! This is a reminder of your {{2}} appointment with {{3}} on {{4}}, at {{5}}. Can we confirm?",
     {"Confirm", "Reschedule", "Cancel"}},
    {demo_template_notice_pt_id, demo_notice_template_name, "pt_BR", "utility", "Olá {{1}}! {{2}}", {}},
    {demo_template_notice_en_id, demo_notice_template_name, "en_US", "utility", "Hello {{1}}! {{2}}", {}},
  };
}

} // namespace atendeai::core
