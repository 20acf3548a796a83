DROP FUNCTION atendeai.finish_job(uuid, uuid, text, text, timestamptz, timestamptz);
DROP FUNCTION atendeai.claim_jobs(uuid[], timestamptz, text, interval, int, int);
DROP FUNCTION atendeai.clinics_with_due_jobs(timestamptz);
DROP FUNCTION atendeai.next_job_due(timestamptz);
DROP FUNCTION atendeai.plan_notice(uuid, uuid, text, timestamptz);
DROP FUNCTION atendeai.plan_reminders(uuid, uuid, timestamptz);
DROP TABLE atendeai.reminder_settings;
DROP TABLE atendeai.jobs;
