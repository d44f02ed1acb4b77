// Package synth generates synthetic organisations for load tests: a full
// HR snapshot of N persons in the CERT r5.2 LDAP column layout (the one
// config.Default's "hris" source reads), and the month after it with a
// given share of leavers, movers and joiners.
//
// Everything is deterministic: the same size, seed and rates give the same
// bytes. The generated feed always validates: user IDs and display names
// are unique (display names case-insensitively, as hr.Validate compares
// them), every supervisor is the display name of a person in the same
// snapshot, and the manager tree has one root (the CEO) and no cycles.
package synth

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// Columns is the header of a generated feed.
var Columns = []string{"employee_name", "user_id", "email", "role", "projects", "business_unit",
	"functional_unit", "department", "team", "supervisor"}

// Person is one row of a snapshot.
type Person struct {
	Name           string // display name, "First Middle Last"
	UserID         string // three initials and five digits, e.g. MMK01532
	Email          string
	Role           string
	Projects       string // often empty
	BusinessUnit   string
	FunctionalUnit string
	Department     string
	Team           string
	Supervisor     string // the manager's display name; empty for the CEO
}

func (p *Person) record() []string {
	return []string{p.Name, p.UserID, p.Email, p.Role, p.Projects, p.BusinessUnit,
		p.FunctionalUnit, p.Department, p.Team, p.Supervisor}
}

// Org is one monthly snapshot of a synthetic organisation.
type Org struct {
	Persons []Person
	Month   int // 0 for Generate's snapshot, +1 for each Next

	seed     uint64
	projects int                 // projects are "Project 0" … "Project projects-1"
	ids      map[string]struct{} // every user ID ever issued (never reused: no rehires)
	names    map[string]struct{} // every lower-cased display name ever issued
}

// Delta is what Next changed: the user IDs of the leavers, movers and
// joiners, each in snapshot order.
type Delta struct {
	Leavers, Movers, Joiners []string
}

// CSV renders the snapshot as a CSV file with a header row.
func (o *Org) CSV() []byte {
	var b bytes.Buffer
	b.Grow(len(o.Persons) * 160)
	w := csv.NewWriter(&b)
	_ = w.Write(Columns)
	for i := range o.Persons {
		_ = w.Write(o.Persons[i].record())
	}
	w.Flush()
	return b.Bytes()
}

// Generate builds an organisation of n persons from seed.
//
// Shape: a CEO; business-unit presidents; a vice-president per functional
// unit in each business unit; a director per department; teams of 1 to 60
// persons, each with a manager, team leads (for teams of more than 13) and
// members. That is seven levels (CEO at depth 0, members at depth 6).
// Department sizes follow the CERT r5.2 proportions (sales, field service,
// engineering and assembly are large; finance and medical are small).
func Generate(n int, seed uint64) *Org {
	o := &Org{seed: seed, ids: map[string]struct{}{}, names: map[string]struct{}{}}
	if n <= 0 {
		return o
	}
	r := o.rng()
	o.projects = max(4, n/60)
	o.Persons = make([]Person, 0, n)

	add := func(role, bu, fu, dept, team, sup string) *Person {
		p := o.newPerson(r, role, bu, fu, dept, team, sup)
		o.Persons = append(o.Persons, p)
		return &o.Persons[len(o.Persons)-1]
	}
	ceo := add("ChiefExecutiveOfficer", "", "", "", "", "").Name

	nbu := min(len(businessUnits), max(2, n/25000))
	type unit struct {
		bu, fu, director string
		d                *dept
	}
	// Heads first, so that every supervisor precedes their reports.
	var units []unit
	for b := 0; b < nbu; b++ {
		bu := businessUnits[b]
		pres := add("President", bu, "", "", "", ceo).Name
		for _, f := range catalog {
			vp := add("VicePresident", bu, f.name, "", "", pres).Name
			for i := range f.depts {
				d := &f.depts[i]
				dir := add("Director", bu, f.name, d.name, "", vp).Name
				units = append(units, unit{bu, f.name, dir, d})
			}
		}
	}
	if len(o.Persons) >= n {
		o.Persons = o.Persons[:n] // tiny org: heads only, cut in order (no dangling supervisor)
		return o
	}

	// Share the rest among the departments by weight (largest remainder).
	rest := n - len(o.Persons)
	var total float64
	for _, u := range units {
		total += u.d.weight
	}
	sizes := make([]int, len(units))
	type frac struct {
		i int
		f float64
	}
	fr := make([]frac, len(units))
	given := 0
	for i, u := range units {
		x := float64(rest) * u.d.weight / total
		sizes[i] = int(x)
		given += sizes[i]
		fr[i] = frac{i, x - math.Floor(x)}
	}
	for k := 0; given < rest; k++ {
		best := -1
		for j := range fr {
			if fr[j].f >= 0 && (best < 0 || fr[j].f > fr[best].f) {
				best = j
			}
		}
		sizes[fr[best].i]++
		fr[best].f = -1
		given++
	}

	for i, u := range units {
		size := sizes[i]
		if size == 0 {
			continue
		}
		teams := max(1, int(math.Round(float64(size)/40)))
		for t := 0; t < teams; t++ {
			s := size / teams
			if t < size%teams {
				s++
			}
			team := fmt.Sprintf("%d - %s", t+1, u.d.teams[t%len(u.d.teams)])
			o.team(r, u.bu, u.fu, u.d, team, u.director, s)
		}
	}
	return o
}

// team adds a team of s persons under director.
func (o *Org) team(r *rand.Rand, bu, fu string, d *dept, team, director string, s int) {
	mrole := "Manager"
	if strings.HasSuffix(team, "Lab") {
		mrole = "LabManager"
	}
	mgr := o.newPerson(r, mrole, bu, fu, d.name, team, director)
	o.Persons = append(o.Persons, mgr)
	members := s - 1
	var leads []string
	if members > 13 {
		nl := (members + 11) / 12 // a lead for every eleven members or so
		for range nl {
			l := o.newPerson(r, "Supervisor", bu, fu, d.name, team, mgr.Name)
			o.Persons = append(o.Persons, l)
			leads = append(leads, l.Name)
		}
		members -= nl
	}
	for k := range members {
		sup := mgr.Name
		if len(leads) > 0 {
			sup = leads[k%len(leads)]
		}
		o.Persons = append(o.Persons, o.newPerson(r, memberRole(r, d), bu, fu, d.name, team, sup))
	}
}

func memberRole(r *rand.Rand, d *dept) string {
	switch x := r.IntN(100); {
	case x < 3:
		return "AdministrativeAssistant"
	case x < 5:
		return "ITAdmin"
	}
	return d.roles[r.IntN(len(d.roles))]
}

func (o *Org) rng() *rand.Rand {
	return rand.New(rand.NewPCG(o.seed, uint64(o.Month)*0x9E3779B97F4A7C15+1))
}

// newPerson makes a person with a display name and user ID never issued
// before in this organisation's history.
func (o *Org) newPerson(r *rand.Rand, role, bu, fu, dept, team, sup string) Person {
	var first, middle, last string
	for try := 0; ; try++ {
		first = firstNames[r.IntN(len(firstNames))]
		middle = firstNames[r.IntN(len(firstNames))]
		last = lastNames[r.IntN(len(lastNames))]
		if middle == first {
			continue
		}
		if try >= 50 { // millions of persons: make the last name unique
			last += fmt.Sprint(len(o.names))
		}
		if _, dup := o.names[strings.ToLower(first+" "+middle+" "+last)]; !dup {
			break
		}
	}
	name := first + " " + middle + " " + last
	o.names[strings.ToLower(name)] = struct{}{}
	var id string
	for {
		id = fmt.Sprintf("%c%c%c%05d", first[0], middle[0], last[0], r.IntN(100000))
		if _, dup := o.ids[id]; !dup {
			break
		}
	}
	o.ids[id] = struct{}{}
	p := Person{Name: name, UserID: id, Email: first + "." + middle + "." + last + "@dtaa.com", Role: role,
		BusinessUnit: bu, FunctionalUnit: fu, Department: dept, Team: team, Supervisor: sup}
	if team != "" && r.IntN(100) < 22 {
		p.Projects = fmt.Sprintf("Project %d", r.IntN(o.projects))
	}
	return p
}

// Next returns the following month: round(leavers×N) persons without
// reports leave, round(movers×N) persons change title, or team (with
// department, business unit and manager), and round(joiners×N) new persons
// join under existing managers. Rates are fractions: 0.01 is 1%. Nobody
// else changes, so an import of the result finds exactly those numbers of
// leavers, movers and joiners. o is not modified.
func Next(o *Org, leavers, movers, joiners float64) (*Org, Delta) {
	n := len(o.Persons)
	nx := &Org{Month: o.Month + 1, seed: o.seed, projects: o.projects,
		ids: clone(o.ids), names: clone(o.names)}
	r := nx.rng()
	nl, nm, nj := count(leavers, n), count(movers, n), count(joiners, n)

	reports := make(map[string]int, n/8)
	for i := range o.Persons {
		reports[o.Persons[i].Supervisor]++
	}
	var leaves, heads []int // persons without reports; team managers and leads with reports
	for i := range o.Persons {
		p := &o.Persons[i]
		switch {
		case p.Supervisor == "":
			// the CEO stays and does not move
		case reports[p.Name] == 0:
			leaves = append(leaves, i)
		case p.Team != "":
			heads = append(heads, i)
		}
	}
	if nl > len(leaves) {
		panic(fmt.Sprintf("synth: %d leavers asked, only %d persons without reports", nl, len(leaves)))
	}
	r.Shuffle(len(leaves), func(a, b int) { leaves[a], leaves[b] = leaves[b], leaves[a] })
	leaving := make(map[int]bool, nl)
	for _, i := range leaves[:nl] {
		leaving[i] = true
	}
	// Movers: anyone else but the CEO.
	cands := make([]int, 0, n)
	for i := range o.Persons {
		if !leaving[i] && o.Persons[i].Supervisor != "" {
			cands = append(cands, i)
		}
	}
	if nm > len(cands) {
		panic(fmt.Sprintf("synth: %d movers asked, only %d candidates", nm, len(cands)))
	}
	r.Shuffle(len(cands), func(a, b int) { cands[a], cands[b] = cands[b], cands[a] })
	moving := make(map[int]bool, nm)
	for _, i := range cands[:nm] {
		moving[i] = true
	}

	var d Delta
	nx.Persons = make([]Person, 0, n-nl+nj)
	for i := range o.Persons {
		p := o.Persons[i]
		switch {
		case leaving[i]:
			d.Leavers = append(d.Leavers, p.UserID)
			continue
		case moving[i]:
			nx.move(r, &p, reports[p.Name] == 0, o.Persons, heads)
			d.Movers = append(d.Movers, p.UserID)
		}
		nx.Persons = append(nx.Persons, p)
	}
	// Joiners go under team managers and leads, who never leave (they
	// have reports), so each joiner's supervisor is in the new snapshot.
	for range nj {
		h := &o.Persons[heads[r.IntN(len(heads))]]
		dp := deptByName[h.Department]
		p := nx.newPerson(r, memberRole(r, dp), h.BusinessUnit, h.FunctionalUnit, h.Department, h.Team, h.Name)
		nx.Persons = append(nx.Persons, p)
		d.Joiners = append(d.Joiners, p.UserID)
	}
	return nx, d
}

// move changes what makes p a mover for hr.Diff: a transfer to another
// team (new manager, team, and maybe department and business unit) for a
// person without reports, else a new title. A person without reports
// cannot close a manager cycle, and the new manager has reports, so does
// not leave this month.
func (o *Org) move(r *rand.Rand, p *Person, leaf bool, all []Person, heads []int) {
	if leaf && len(heads) > 1 && r.IntN(100) < 65 {
		for {
			h := &all[heads[r.IntN(len(heads))]]
			if h.Name == p.Supervisor {
				continue
			}
			changedDept := h.Department != p.Department
			p.Supervisor, p.BusinessUnit, p.FunctionalUnit, p.Department, p.Team =
				h.Name, h.BusinessUnit, h.FunctionalUnit, h.Department, h.Team
			if d := deptByName[p.Department]; changedDept && d != nil {
				p.Role = memberRole(r, d)
			}
			return
		}
	}
	pool := promotions
	if d := deptByName[p.Department]; leaf && d != nil {
		pool = append(append([]string(nil), d.roles...), "Supervisor", "TechnicalWriter", "AdministrativeAssistant")
	}
	for {
		if t := pool[r.IntN(len(pool))]; t != p.Role {
			p.Role = t
			return
		}
	}
}

func count(rate float64, n int) int {
	return int(math.Round(rate * float64(n)))
}

func clone(m map[string]struct{}) map[string]struct{} {
	c := make(map[string]struct{}, len(m)+len(m)/20)
	for k := range m {
		c[k] = struct{}{}
	}
	return c
}

type dept struct {
	name   string
	weight float64  // share of the workforce, in CERT r5.2 proportions
	teams  []string // team names cycle through these, numbered "1 - X", "2 - Y", …
	roles  []string // titles of team members
}

type functionalUnit struct {
	name  string
	depts []dept
}

var businessUnits = []string{"1 - NorthAmerica", "2 - Europe", "3 - AsiaPacific", "4 - LatinAmerica", "5 - MiddleEastAfrica"}

var promotions = []string{"Manager", "Director", "ChiefEngineer", "Supervisor", "LabManager", "VicePresident", "ProjectManager"}

var catalog = []functionalUnit{
	{"1 - Administration", []dept{
		{"1 - Personnel", 12, []string{"Recruiting", "Benefits"}, []string{"HumanResourceSpecialist", "AdministrativeStaff"}},
		{"2 - EmployeeRelations", 8, []string{"Relations"}, []string{"HumanResourceSpecialist"}},
		{"3 - Training", 6, []string{"TechnicalTraining"}, []string{"TechnicalTrainer", "InstructionalCoordinator"}},
		{"4 - Safety", 6, []string{"Safety"}, []string{"HealthSafetyEngineer"}},
		{"5 - Medical", 6, []string{"Clinic"}, []string{"Nurse", "NursePractitioner"}},
		{"6 - Security", 120, []string{"BuildingSecurity", "ElectronicSecurity"}, []string{"SecurityGuard", "ITAdmin"}},
	}},
	{"2 - ResearchAndEngineering", []dept{
		{"1 - ProjectManagement", 12, []string{"Programs"}, []string{"ProjectManager"}},
		{"2 - Research", 186, []string{"Lab"}, []string{"Scientist", "Physicist", "Mathematician", "Statistician", "ComputerScientist"}},
		{"3 - SoftwareManagement", 230, []string{"SQA", "DesktopSoftware", "EmbeddedSoftware", "WebSoftware"},
			[]string{"SoftwareEngineer", "SoftwareDeveloper", "ComputerProgrammer", "SoftwareQualityEngineer", "WebDeveloper"}},
		{"4 - Engineering", 300, []string{"MechanicalEngineering", "ElectricalEngineering", "MaterialsEngineering", "SystemsEngineering", "TestAndEvaluation", "Publications"},
			[]string{"MechanicalEngineer", "ElectricalEngineer", "MaterialsEngineer", "SystemsEngineer", "TestEngineer", "HardwareEngineer", "TechnicalWriter"}},
	}},
	{"3 - Manufacturing", []dept{
		{"1 - IndustrialEngineering", 8, []string{"ProcessEngineering"}, []string{"IndustrialEngineer"}},
		{"2 - ManufacturingEngineering", 14, []string{"Tooling"}, []string{"Engineer", "Technician"}},
		{"3 - Assembly", 360, []string{"AssemblyDept", "Stockroom"}, []string{"ProductionLineWorker", "ProductionLineWorker", "StockroomClerk"}},
		{"4 - QualityControl", 10, []string{"Inspection"}, []string{"QualityEngineer", "Technician"}},
	}},
	{"4 - Finance", []dept{
		{"1 - Accounting", 8, []string{"Ledger"}, []string{"Accountant"}},
		{"2 - Payroll", 8, []string{"Payroll"}, []string{"Accountant", "AdministrativeStaff"}},
		{"3 - FinancialPlanning", 8, []string{"Planning"}, []string{"FinancialAnalyst"}},
	}},
	{"5 - SalesAndMarketing", []dept{
		{"1 - MarketAnalysis", 8, []string{"MarketResearch"}, []string{"FinancialAnalyst", "Statistician"}},
		{"2 - Sales", 314, []string{"RegionalSales"}, []string{"Salesman"}},
		{"3 - FieldService", 314, []string{"RegionalFieldService"}, []string{"FieldServiceEngineer", "Technician"}},
		{"4 - Pricing", 8, []string{"Pricing"}, []string{"FinancialAnalyst"}},
	}},
	{"6 - PurchasingAndContracts", []dept{
		{"1 - Purchasing", 12, []string{"Purchasing"}, []string{"PurchasingClerk"}},
		{"2 - Contracts", 12, []string{"Contracts"}, []string{"Attorney", "AdministrativeAssistant"}},
	}},
}

var deptByName = func() map[string]*dept {
	m := map[string]*dept{}
	for i := range catalog {
		for j := range catalog[i].depts {
			d := &catalog[i].depts[j]
			m[d.name] = d
		}
	}
	return m
}()

var firstNames = strings.Fields(`Aaron Abbot Abel Abigail Ada Adam Adena Adrian Aiko Alan Albert Alden Alexa
Alfreda Alice Allegra Alma Alvin Amal Amelia Amos Anastasia Andrew Angela Anjolie Ann Anthony Aretha Ariel
Armando Arthur Ashton Audrey August Aurora Austin Axel Barbara Barry Basil Beatrice Beck Benedict Bernard
Bertha Blaine Blair Blake Bo Brandon Branden Brennan Brenda Brian Briar Brittany Brock Bruno Bryar Buckminster
Byron Caesar Cairo Caldwell Callie Calvin Camden Cameron Camille Candace Cara Carl Carla Carol Carson Carter
Cassandra Cathleen Cecilia Cedric Chadwick Chaim Chancellor Chandler Chantale Charity Charles Chase Chester
Chloe Christopher Ciaran Claire Clark Claudia Clayton Clementine Colby Colette Colin Colleen Connor Constance
Cooper Craig Cruz Cynthia Dacey Dale Dalton Damian Dana Daniel Daphne Darius Darrel Dawn Deacon Deborah Declan
Delilah Denise Dennis Desiree Devin Dillon Dolan Dominic Donovan Dora Dorian Drake Drew Duncan Dustin Dylan
Eagan Eaton Edan Eden Edward Elaine Eleanor Elijah Elliott Elmo Elton Emerald Emery Emma Emmanuel Erasmus Eric
Erin Ethan Eugenia Evangeline Evelyn Fallon Farrah Felix Fiona Fletcher Flynn Forrest Frances Francis Fuller
Gabriel Gage Galena Gannon Gareth Garrett Gavin Gemma Genevieve George Georgia Geraldine Gideon Gillian Giselle
Glenna Grady Graham Gregory Griffin Guinevere Gwendolyn Hadassah Hakeem Halla Hamish Hannah Harding Harper
Hasad Hayden Hector Hedda Helen Henry Herman Hilary Hiram Holly Honora Hope Hoyt Hu Hunter Ian Idola Ifeoma
Ignatius Igor Illana Imani Imogene Ingrid Ira Irene Iris Isaac Isabella Ivan Ivory Jack Jacob Jade Jaime Jakeem
Jameson Janna Jared Jasper Jayme Jean Jenna Jerome Jessamine Jillian Joan Joel Jolene Jonah Jordan Joseph
Josephine Judith Julian Justine Kadeem Kai Kameko Karen Kasimir Katell Keane Keefe Keely Keiko Kelly Kendall
Kenneth Kermit Kevin Kiara Kieran Kimberly Kirk Kirsten Knox Kyla Kyle Lacey Lamar Lana Lane Lars Latifah
Laurel Lawrence Leah Lee Leila Leo Leroy Lesley Levi Liberty Lila Lionel Lois Lucas Lucian Lucy Lydia Lyle
Lynn Macon Madeline Madison Magee Maggy Maisie Malachi Malik Mallory Marcia Mariko Mark Martena Martin Mason
Maxwell Maya Meredith Micah Michael Mikayla Miranda Mohammad Molly Montana Morgan Moses Murphy Myra Nadine Naida
Naomi Nash Nasim Nathan Neil Nero Nevada Nicholas Nicole Nina Noah Noelani Nolan Nora Norman Oleg Olga Oliver
Olympia Omar Oprah Orla Orson Oscar Otto Owen Paki Palmer Pamela Patience Patrick Paula Paul Perry Peter
Philip Phoebe Piper Porter Prescott Preston Priscilla Quail Quemby Quentin Quinn Rachel Rafael Rahim Rajah
Ralph Ramona Randall Raphael Raven Ray Reagan Rebecca Reece Regina Reuben Rhea Rhonda Richard Rina Riley Robert
Roanna Rogan Rooney Rosalyn Ross Rowan Ruby Rudyard Russell Ruth Ryder Sade Salvador Samantha Samuel Sandra
Sara Sasha Scarlett Scott Sean Sebastian Serena Seth Shad Shaine Shannon Shea Sheila Shelby Sierra Silas Simon
Skyler Slade Sloane Solomon Sophia Stacy Stephen Stewart Stone Summer Susan Sybill Sydney Tad Talon Tamara
Tanek Tanya Tara Tate Tatum Teagan Thaddeus Thane Theodore Thomas Tiger Timon Tobias Todd Travis Trevor
Troy Tucker Tyler Tyrone Ulla Ulric Ulysses Uma Upton Uriah Ursula Valentine Vance Vanna Vaughan Vera Vernon
Victor Vincent Violet Virginia Vivian Wade Walker Wallace Wanda Warren Wayne Wendy Whilemina Whitney Wilma
Wing Winter Wyatt Wylie Xander Xandra Xavier Xena Yael Yardley Yasir Yetta Yoshi Yvette Yvonne Zachary Zahir
Zane Zelda Zelenia Zena Zeus Zia Zorita`)

var lastNames = strings.Fields(`Abbott Acevedo Acosta Adams Adkins Aguilar Albert Alexander Alford Allen
Allison Alston Alvarado Alvarez Anderson Andrews Anthony Armstrong Arnold Ashley Atkins Atkinson Austin Avery
Ayala Ayers Bailey Baird Baker Baldwin Ball Ballard Banks Barber Barker Barlow Barnes Barnett Barr Barrera
Barrett Barron Barry Bartlett Barton Bass Bates Battle Bauer Baxter Beach Bean Beard Beasley Beck Becker
Bell Bender Benjamin Bennett Benson Bentley Benton Berg Berger Bernard Berry Best Bird Bishop Black Blackburn
Blackwell Blair Blake Blanchard Blankenship Blevins Bolton Bond Bonner Booker Boone Booth Bowen Bowers Bowman
Boyd Boyer Boyle Bradford Bradley Bradshaw Brady Branch Bray Brennan Brewer Bridges Briggs Bright Britt Brock
Brooks Browning Bruce Bryan Bryant Buchanan Buck Buckley Buckner Bullock Burch Burgess Burke Burks Burnett
Burns Burris Burt Burton Bush Butler Byers Byrd Cabrera Cain Calderon Caldwell Calhoun Callahan Camacho
Cameron Campbell Campos Cannon Cantrell Cantu Cardenas Carey Carlson Carney Carpenter Carr Carrillo Carroll
Carson Carter Carver Case Casey Cash Castaneda Castillo Castro Cervantes Chambers Chan Chandler Chaney Chang
Chapman Charles Chase Chavez Chen Cherry Christensen Christian Church Clark Clarke Clay Clayton Clements
Clemons Cleveland Cline Cobb Cochran Coffey Cohen Cole Coleman Collier Collins Colon Combs Compton Conley
Conner Conrad Contreras Conway Cook Cooke Cooley Cooper Copeland Cortez Cote Cotton Cox Craft Craig Crane
Crawford Crosby Cross Cruz Cummings Cunningham Curry Curtis Dale Dalton Daniel Daniels Daugherty Davenport
David Davidson Davis Dawson Day Dean Decker Dejesus Delacruz Delaney Deleon Delgado Dennis Diaz Dickerson
Dickson Dillard Dillon Dixon Dodson Dominguez Donaldson Donovan Dorsey Dotson Douglas Downs Doyle Drake
Dudley Duffy Duke Duncan Dunlap Dunn Duran Durham Dyer Eaton Edwards Elliott Ellis Ellison Emerson England
English Erickson Espinoza Estes Estrada Evans Everett Ewing Farley Farmer Farrell Faulkner Ferguson Fernandez
Ferrell Fields Figueroa Finch Finley Fischer Fisher Fitzgerald Fitzpatrick Fleming Fletcher Flores Flowers
Floyd Flynn Foley Forbes Ford Foreman Foster Fowler Fox Francis Franco Frank Franklin Franks Frazier Frederick
Freeman French Frost Fry Frye Fuentes Fuller Fulton Gaines Gallagher Gallegos Galloway Gamble Garcia Gardner
Garner Garrett Garrison Garza Gates Gay Gentry George Gibbs Gibson Gilbert Giles Gill Gillespie Gilliam
Gilmore Glass Glenn Glover Goff Golden Gomez Gonzales Goodman Goodwin Gordon Gould Graham Grant Graves Gray
Green Greene Greer Gregory Griffin Griffith Grimes Gross Guerra Guerrero Guthrie Gutierrez Guy Guzman Hahn
Hale Haley Hall Hamilton Hammond Hampton Hancock Haney Hansen Hanson Hardin Harding Hardy Harmon Harper Harrell
Harrington Harris Harrison Hart Hartman Harvey Hatfield Hawkins Hayden Hayes Haynes Hays Head Heath Hebert
Henderson Hendricks Hendrix Henry Hensley Henson Herman Hernandez Herrera Herring Hess Hester Hewitt Hickman
Higgins Hill Hines Hinton Hobbs Hodge Hodges Hoffman Hogan Holcomb Holden Holder Holland Holloway Holman
Holmes Holt Hood Hooper Hoover Hopkins Hopper Horn Horne Horton House Houston Howard Howe Howell Hubbard
Huber Hudson Huff Huffman Hughes Hull Humphrey Hunt Hunter Hurley Hurst Hutchinson Hyde Ingram Irwin Jackson
Jacobs Jacobson James Jarvis Jefferson Jenkins Jennings Jensen Jimenez Johns Johnston Jordan Joseph Joyce
Joyner Juarez Justice Kane Kaufman Keith Keller Kelley Kelly Kemp Kennedy Kent Kerr Key Kidd Kim King Kinney
Kirby Kirk Kirkland Klein Kline Knapp Knight Knowles Knox Koch Kramer Lamb Lambert Lancaster Landry Lane Lang
Langley Lara Larsen Larson Lawrence Lawson Leach Leblanc Lee Leon Leonard Lester Levine Levy Lewis Lindsay
Lindsey Little Livingston Lloyd Logan Long Lopez Lott Love Lowe Lowery Lucas Luna Lynch Lynn Lyons Macdonald
Mack Madden Maddox Maldonado Malone Mann Manning Marks Marquez Marsh Marshall Martin Mason Massey Mathews
Matthews Maxwell May Mayer Maynard Mayo Mays Mcbride Mccall Mccarthy Mccarty Mcclain Mcclure Mcconnell
Mccormick Mccoy Mccray Mccullough Mcdaniel Mcdonald Mcdowell Mcfadden Mcfarland Mcgee Mcgowan Mcguire
Mcintosh Mcintyre Mckay Mckee Mckenzie Mckinney Mcknight Mclaughlin Mclean Mcleod Mcmahon Mcmillan Mcneil
Mcpherson Meadows Medina Mejia Melendez Melton Mendez Mendoza Mercado Mercer Merrill Merritt Meyer Meyers
Michael Middleton Miles Miller Mills Miranda Mitchell Molina Monroe Montgomery Montoya Moody Moon Mooney Moore
Morales Moran Moreno Morgan Morin Morris Morrison Morrow Morse Morton Moses Mosley Moss Mueller Mullen Mullins
Munoz Murphy Murray Myers Nash Navarro Neal Nelson Newman Newton Nguyen Nichols Nicholson Nielsen Nieves
Nixon Noble Noel Nolan Norman Norris Norton Nunez Obrien Ochoa Oconnor Odom Odonnell Oliver Olsen Olson
Oneal Oneil Orr Ortega Ortiz Osborn Osborne Owen Owens Pace Pacheco Padilla Page Palmer Park Parker Parks
Parrish Parsons Pate Patel Patrick Patterson Patton Paul Payne Pearson Peck Pena Pennington Perez Perkins
Perry Peters Petersen Peterson Petty Phelps Phillips Pickett Pierce Pittman Pitts Pollard Poole Pope Porter
Potter Potts Powell Powers Pratt Preston Price Prince Pruitt Puckett Pugh Quinn Ramirez Ramos Ramsey Randall
Randolph Rasmussen Ratliff Ray Raymond Reed Reese Reeves Reid Reilly Reyes Reynolds Rhodes Rice Rich Richard
Richards Richardson Richmond Riddle Riggs Riley Rios Rivas Rivera Rivers Roach Robbins Roberson Roberts
Robertson Robinson Robles Rocha Rodgers Rodriguez Rodriquez Rogers Rojas Rollins Roman Romero Rosa Rosales
Rosario Rose Ross Roth Rowe Rowland Roy Ruiz Rush Russell Russo Rutledge Ryan Salas Salazar Salinas Sampson
Sanchez Sanders Sandoval Sanford Santana Santiago Santos Sargent Saunders Savage Sawyer Schmidt Schneider
Schroeder Schultz Schwartz Scott Sears Sellers Serrano Sexton Shaffer Shannon Sharp Sharpe Shaw Shelton
Shepard Shepherd Sheppard Sherman Shields Short Silva Simmons Simon Simpson Sims Singleton Skinner Slater
Sloan Small Snider Snow Snyder Solis Solomon Sosa Soto Sparks Spears Spence Spencer Stafford Stanley Stanton
Stark Steele Stein Stephens Stephenson Stevens Stevenson Stewart Stokes Stone Stout Strickland Strong Stuart
Suarez Sullivan Summers Sutton Swanson Sweeney Sweet Sykes Talley Tanner Tate Taylor Terrell Terry Thomas
Thompson Thornton Tillman Todd Torres Townsend Tran Travis Trevino Trujillo Tucker Turner Tyler Tyson
Underwood Valdez Valencia Valentine Valenzuela Vance Vang Vargas Vasquez Vaughan Vaughn Vazquez Vega Velasquez
Velazquez Velez Villarreal Vincent Vinson Wade Wagner Walker Wall Wallace Waller Walls Walsh Walter Walters
Walton Ward Ware Warner Warren Washington Waters Watkins Watson Watts Weaver Webb Weber Webster Weeks Weiss
Welch Wells West Wheeler Whitaker White Whitehead Whitfield Whitley Whitney Wiggins Wilcox Wilder Wiley
Wilkerson Wilkins Wilkinson William Williams Williamson Willis Wilson Winters Wise Witt Wolf Wolfe Wong Wood
Woodard Woods Woodward Wooten Workman Wright Wyatt Wynn Yang Yates York Young Zamora Zimmerman`)
