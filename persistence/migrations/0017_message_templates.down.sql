-- The clinics' WhatsApp message templates go (their rows with them).
DROP TABLE atendeai.message_templates;
