DELETE FROM atendeai.jobs WHERE kind IN ('waitlist_offer', 'waitlist_hold');
ALTER TABLE atendeai.jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE atendeai.jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('reminder', 'notify', 'no_show'));
DROP TABLE atendeai.waitlist_offers;
DROP TABLE atendeai.waitlist;
