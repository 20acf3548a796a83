DROP FUNCTION atendeai.conversation_clinic(uuid);
DROP INDEX atendeai.conversations_recent_idx;
