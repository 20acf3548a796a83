DROP TABLE atendeai.consent_events;
DROP TABLE atendeai.clinic_privacy;
