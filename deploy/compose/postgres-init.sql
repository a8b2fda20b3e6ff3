-- One database per service (each service owns its data and migrates it on start).
CREATE DATABASE otmetka_identity;
CREATE DATABASE otmetka_curriculum;
CREATE DATABASE otmetka_grades;
CREATE DATABASE otmetka_reporting;
CREATE DATABASE otmetka_portal;
