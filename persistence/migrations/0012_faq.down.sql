-- The clinic knowledge base goes (its entries with it).
DROP TABLE atendeai.faq_entries;
