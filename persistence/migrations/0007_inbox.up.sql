-- Staff inbox and live inspection: recent conversations of a clinic, and the clinic of a
-- conversation named by id alone (a super admin inspecting it).
CREATE INDEX conversations_recent_idx ON atendeai.conversations (clinic_id, last_message_at DESC);

-- System lookup (cross-tenant by nature), owned by atendeai_system.
CREATE FUNCTION atendeai.conversation_clinic(p_conversation uuid) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = atendeai, pg_temp AS $$
  SELECT clinic_id FROM atendeai.conversations WHERE id = p_conversation LIMIT 1
$$;
ALTER FUNCTION atendeai.conversation_clinic(uuid) OWNER TO atendeai_system;
REVOKE ALL ON FUNCTION atendeai.conversation_clinic(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION atendeai.conversation_clinic(uuid) TO atendeai_app;
