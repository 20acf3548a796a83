DROP TABLE atendeai.closures;
DROP TABLE atendeai.professional_absences;
DROP TABLE atendeai.appointments;
