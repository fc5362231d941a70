package workforce

// country is where a worker is employed: the ISO 3166-1 alpha-2 code (the
// CSV's CountryCode, mapped to usageLocation), the local company, the
// culture most names there come from, and a relative weight.
type country struct {
	code    string
	company string
	culture string
	weight  int
}

var countries = []country{
	{"US", "Contoso Inc.", "english", 30},
	{"GB", "Contoso Ltd", "english", 10},
	{"IE", "Contoso Ireland Ltd", "irish", 3},
	{"CA", "Contoso Canada Inc.", "english", 4},
	{"AU", "Contoso Pty Ltd", "english", 3},
	{"DE", "Contoso GmbH", "german", 8},
	{"AT", "Contoso Austria GmbH", "german", 1},
	{"FR", "Contoso SAS", "french", 6},
	{"ES", "Contoso Iberia S.L.", "spanish", 5},
	{"MX", "Contoso México S.A. de C.V.", "spanish", 3},
	{"BR", "Contoso Brasil Ltda.", "portuguese", 3},
	{"PT", "Contoso Portugal Lda.", "portuguese", 1},
	{"PL", "Contoso Polska Sp. z o.o.", "polish", 4},
	{"DK", "Contoso Danmark ApS", "nordic", 2},
	{"SE", "Contoso Sverige AB", "nordic", 2},
	{"NO", "Contoso Norge AS", "nordic", 1},
	{"NL", "Contoso Nederland B.V.", "dutch", 2},
	{"IT", "Contoso Italia S.r.l.", "italian", 2},
	{"CZ", "Contoso Czech s.r.o.", "czech", 1},
	{"HU", "Contoso Hungary Kft.", "hungarian", 1},
	{"TR", "Contoso Türkiye A.Ş.", "turkish", 1},
	{"IN", "Contoso India Pvt Ltd", "indian", 5},
	{"JP", "Contoso Japan K.K.", "japanese", 2},
	{"CN", "Contoso (Shanghai) Co., Ltd.", "chinese", 2},
	{"VN", "Contoso Vietnam Co., Ltd.", "vietnamese", 1},
}

// department is a department with the titles of its heads, its people
// managers and its individual contributors.
type department struct {
	name     string
	head     string   // reports to the CEO
	director string   // second level
	managers []string // people managers further down
	staff    []string // individual contributors
}

// executive is the CEO's department.
const executive = "Executive"

var departments = []department{
	{"Engineering", "Chief Technology Officer", "Director of Engineering",
		[]string{"Engineering Manager", "Principal Engineer", "Team Lead"},
		[]string{"Software Engineer", "Senior Software Engineer", "Staff Software Engineer", "QA Engineer", "DevOps Engineer",
			"Site Reliability Engineer", "Data Engineer", "Frontend Engineer", "Backend Engineer", "Software Engineer II"}},
	{"Sales", "Chief Revenue Officer", "Regional Sales Director",
		[]string{"Sales Manager", "Area Sales Manager", "Key Account Manager"},
		[]string{"Account Executive", "Sales Development Representative", "Account Manager", "Inside Sales Representative",
			"Solutions Consultant", "Sales Operations Analyst"}},
	{"Marketing", "Chief Marketing Officer", "Director of Marketing",
		[]string{"Marketing Manager", "Brand Manager", "Product Marketing Manager"},
		[]string{"Marketing Specialist", "Content Strategist", "SEO Specialist", "Graphic Designer", "Event Coordinator",
			"Marketing Analyst"}},
	{"Finance", "Chief Financial Officer", "Financial Controller",
		[]string{"Finance Manager", "Accounting Manager", "Treasury Manager"},
		[]string{"Accountant", "Financial Analyst", "Accounts Payable Specialist", "Payroll Specialist", "Tax Analyst",
			"Internal Auditor"}},
	{"Human Resources", "Chief People Officer", "HR Director",
		[]string{"HR Manager", "Talent Acquisition Manager", "Learning & Development Manager"},
		[]string{"HR Business Partner", "Recruiter", "HR Generalist", "Compensation Analyst", "HR Coordinator"}},
	{"Operations", "Chief Operating Officer", "Director of Operations",
		[]string{"Operations Manager", "Logistics Manager", "Facilities Manager"},
		[]string{"Operations Analyst", "Logistics Coordinator", "Procurement Specialist", "Warehouse Associate",
			"Facilities Coordinator", "Supply Chain Planner"}},
	{"Customer Support", "VP Customer Experience", "Director of Support",
		[]string{"Support Manager", "Customer Success Manager", "Support Team Lead"},
		[]string{"Support Specialist", "Technical Support Engineer", "Customer Success Associate", "Service Desk Agent",
			"Escalation Engineer"}},
	{"Information Technology", "Chief Information Officer", "IT Director",
		[]string{"IT Manager", "Infrastructure Manager", "Security Manager"},
		[]string{"Systems Administrator", "Service Desk Analyst", "Network Engineer", "Security Analyst",
			"Cloud Engineer", "Identity Engineer"}},
	{"Legal", "General Counsel", "Deputy General Counsel",
		[]string{"Legal Manager", "Compliance Manager", "Contracts Manager"},
		[]string{"Corporate Counsel", "Paralegal", "Compliance Analyst", "Contracts Specialist", "Privacy Analyst"}},
	{"Research & Development", "Chief Scientific Officer", "Director of Research",
		[]string{"Research Manager", "Lab Manager", "Program Manager"},
		[]string{"Research Scientist", "Lab Technician", "Data Scientist", "Research Engineer", "Clinical Research Associate",
			"Product Designer"}},
}

// adminAccounts are accounts without an employeeId: hrsync must never touch
// them. The first is given a domain of its own (the tenant's initial one).
var adminAccounts = []struct{ upn, name string }{
	{"admin@contoso.onmicrosoft.com", "Global Administrator"},
	{"breakglass01@contoso.com", "Break Glass 01"},
	{"breakglass02@contoso.com", "Break Glass 02"},
	{"svc-hrsync@contoso.com", "hrsync service account"},
	{"svc-backup@contoso.com", "Backup service account"},
	{"svc-scanner@contoso.com", "Multifunction printer scanner"},
	{"helpdesk@contoso.com", "Helpdesk shared account"},
	{"conference-room-1@contoso.com", "Conference Room 1"},
}
