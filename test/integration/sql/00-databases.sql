-- Test databases for the integration suite. Run in master. Drops and re-creates them: everything in them is lost.
--
-- REPRESENTATIVE, NOT REQUIRED: these databases and the tables the next scripts create stand in for a customer's
-- Visma Contracting and Visma CRM. Every table and column is chosen in the node editor; nothing in the nodes is
-- hard-coded to them.
--
--   ContractingTest  source, compatibility level 160, Change Tracking on (dbo.Orders uses it)
--   CrmTest          target, compatibility level 160 (OPENJSON available)
--   CrmLegacyTest    target, compatibility level 120: no OPENJSON, as on a CRM database never raised after an upgrade

IF DB_ID(N'ContractingTest') IS NOT NULL
BEGIN
    ALTER DATABASE [ContractingTest] SET SINGLE_USER WITH ROLLBACK IMMEDIATE;
    DROP DATABASE [ContractingTest];
END;
IF DB_ID(N'CrmTest') IS NOT NULL
BEGIN
    ALTER DATABASE [CrmTest] SET SINGLE_USER WITH ROLLBACK IMMEDIATE;
    DROP DATABASE [CrmTest];
END;
IF DB_ID(N'CrmLegacyTest') IS NOT NULL
BEGIN
    ALTER DATABASE [CrmLegacyTest] SET SINGLE_USER WITH ROLLBACK IMMEDIATE;
    DROP DATABASE [CrmLegacyTest];
END;
GO

CREATE DATABASE [ContractingTest];
GO
ALTER DATABASE [ContractingTest] SET COMPATIBILITY_LEVEL = 160;
ALTER DATABASE [ContractingTest] SET CHANGE_TRACKING = ON (CHANGE_RETENTION = 2 DAYS, AUTO_CLEANUP = ON);
GO

CREATE DATABASE [CrmTest];
GO
ALTER DATABASE [CrmTest] SET COMPATIBILITY_LEVEL = 160;
GO

CREATE DATABASE [CrmLegacyTest];
GO
ALTER DATABASE [CrmLegacyTest] SET COMPATIBILITY_LEVEL = 120;
GO
