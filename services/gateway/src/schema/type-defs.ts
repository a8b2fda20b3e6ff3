/**
 * The API contract's queries and their types (schema/build.ts adds the mutations and
 * subscriptions). Root field names are fixed by issue 12; every type and field carries a
 * description, and `schema.graphql` is the whole schema as printed by graphql-js (a test compares).
 */
export const queryTypeDefs = /* GraphQL */ `
"""A civil date, YYYY-MM-DD."""
scalar Date

"""What the caller may read. Every field is authorized by role and scope; see the gateway README."""
type Query {
  """The verified caller: account, person and role claims."""
  me: Me!
  """The region the platform serves (ministry officers of it; platform admins)."""
  region: Region!
  """A municipality by id."""
  municipality(id: ID!): Municipality
  """A school by id."""
  school(id: ID!): School
  """A class group by id."""
  classGroup(id: ID!): ClassGroup
  """A person by id; personal data only to the person, their guardians and entitled staff."""
  person(id: ID!): Person
  """The journal of a class group in a subject and term (termId: "<startYear>:<term 1-4, 0 = year>"); with subgroupId, the journal of that subgroup of the class group in the subject (a foreign language, labour lessons), NOT_FOUND for a subgroup of another class group or subject."""
  journal(classGroupId: ID!, subjectId: ID!, termId: ID!, subgroupId: ID): Journal
  """A pupil's diary between two dates, inclusive."""
  diary(studentId: ID!, from: Date!, to: Date!): Diary
  """A work programme (id: "<schoolId>:<startYear>:<subjectId>:<gradeLevel>[:<version>]")."""
  workProgramme(id: ID!): WorkProgramme
  """Figures of one region, municipality, school or class group over a period."""
  dashboard(scope: DashboardScopeInput!, period: DashboardPeriodInput!, subjectId: ID): Dashboard
  """User accounts of the people of a school (registered, enrolled now or on its staff), by account id: its school admins, its municipality's officers, platform admins. pageSize 1-1000 (default 100); pageToken: nextPageToken of the previous page."""
  accounts(schoolId: ID!, pageSize: Int, pageToken: String): AccountPage
}

"""A page of user accounts."""
type AccountPage {
  """The accounts of this page."""
  accounts: [Account!]!
  """The pageToken of the next page; null on the last."""
  nextPageToken: String
}

"""A user account of a person."""
type Account {
  """Account id (the token subject)."""
  id: ID!
  """The person the account belongs to."""
  person: Person
  """Login name. It may be a name, so it is the person's personal data and authorized as their name is."""
  username: String
  """Role claims, e.g. TEACHER@school:<id>."""
  roles: [String!]!
  """Whether the account is disabled (no login, no refresh)."""
  disabled: Boolean!
  """When the account was created (RFC 3339)."""
  createdAt: String!
  """The last successful login (RFC 3339); null if never."""
  lastLoginAt: String
}

"""The verified caller."""
type Me {
  """The account (token subject)."""
  accountId: ID!
  """The person behind the account; null for platform and service accounts."""
  personId: ID
  """Role claims, e.g. TEACHER@school:<id>."""
  roles: [String!]!
  """The caller's own person record."""
  person: Person
}

"""The region (one per deployment)."""
type Region {
  """Region id (e.g. 74)."""
  id: ID!
  """Region name."""
  name: String!
  """The region's municipalities."""
  municipalities: [Municipality!]!
}

"""A municipality (municipal education department)."""
type Municipality {
  """Municipality id."""
  id: ID!
  """Name."""
  name: String!
  """Schools of the municipality."""
  schools: [School!]!
}

"""A school."""
type School {
  """School id."""
  id: ID!
  """Full name."""
  name: String!
  """Short name."""
  shortName: String!
  """The municipality the school belongs to."""
  municipality: Municipality
  """IANA time zone of the school's civil dates."""
  timeZone: String!
  """The day it closed, if closed."""
  closedOn: Date
  """Class groups of the school."""
  classGroups: [ClassGroup!]!
}

"""A class group (e.g. 5 "А") in one academic year."""
type ClassGroup {
  """Class group id."""
  id: ID!
  """Calendar year the academic year starts in."""
  academicYear: Int!
  """Grade level 1-11."""
  gradeLevel: Int!
  """Letter."""
  letter: String!
  """Display name, grade and letter."""
  name: String!
  """Whether the class group is closed."""
  closed: Boolean!
  """The school."""
  school: School
  """The homeroom teacher."""
  homeroomTeacher: Person
  """Pupils enrolled today (school admins, homeroom and subject teachers of the class group), by family name, given name and patronymic when the caller may read every name."""
  pupils: [Person!]!
}

"""What kind of person a record is about."""
enum PersonKind {
  """A pupil."""
  STUDENT
  """A school staff member."""
  STAFF
  """A parent or other guardian."""
  GUARDIAN
  """Not known."""
  UNSPECIFIED
}

"""A person. Name fields are personal data and authorized per person."""
type Person {
  """Person id."""
  id: ID!
  """Kind of person."""
  kind: PersonKind!
  """Whether the person's data was erased."""
  erased: Boolean!
  """Full name: family, given and patronymic."""
  name: String
  """Family name."""
  familyName: String
  """Given name."""
  givenName: String
  """Patronymic; may be empty."""
  patronymic: String
  """Birth date."""
  birthDate: Date
  """
  True when only the name is given: the reader's school held the person before but holds them no longer (a pupil who moved on, in its old journals); the rest of their personal data is the current school's. Null when no personal data is given at all.
  """
  namesOnly: Boolean
}

"""A subject of the curriculum."""
type Subject {
  """Subject id."""
  id: ID!
  """Code."""
  code: String!
  """Name."""
  name: String!
}

"""A mark value: 1-5, pass, fail or not attested."""
enum MarkValue {
  """1."""
  ONE
  """2."""
  TWO
  """3."""
  THREE
  """4."""
  FOUR
  """5."""
  FIVE
  """Зачёт."""
  PASS
  """Незачёт."""
  FAIL
  """Не аттестован."""
  NOT_ATTESTED
  """Not known."""
  UNSPECIFIED
}

"""Why a pupil was absent."""
enum AbsenceReason {
  """Present or late."""
  NONE
  """Illness."""
  ILLNESS
  """Excused."""
  EXCUSED
  """Unexcused."""
  UNEXCUSED
  """Not known."""
  UNSPECIFIED
}

"""A lesson of a journal."""
type JournalLesson {
  """Lesson id."""
  id: ID!
  """Date."""
  date: Date!
  """Period of the day."""
  period: Int!
  """SCHEDULED, CONDUCTED or CANCELLED."""
  status: String!
  """Topic."""
  topic: String!
  """Homework."""
  homework: String!
  """Whether attendance was recorded."""
  attendanceTaken: Boolean!
}

"""A mark."""
type Mark {
  """Mark id."""
  id: ID!
  """The lesson it was given in."""
  lessonId: ID!
  """Value."""
  value: MarkValue!
  """Weight of the work type."""
  weight: Int!
  """Work type."""
  workType: String!
  """Term 1-4."""
  term: Int!
}

"""An absence or lateness."""
type Absence {
  """Lesson id."""
  lessonId: ID!
  """Reason."""
  reason: AbsenceReason!
  """Minutes late (0 for an absence)."""
  lateMinutes: Int!
}

"""One pupil's row of a journal."""
type JournalRow {
  """The pupil."""
  pupil: Person!
  """Marks in the journal's lessons."""
  marks: [Mark!]!
  """Absences."""
  absences: [Absence!]!
  """Weighted average, two decimals; null without marks."""
  weightedAverage: String
  """Term (or year) mark."""
  termMark: MarkValue
}

"""A class group's journal in one subject and term."""
type Journal {
  """The class group."""
  classGroup: ClassGroup!
  """The subgroup whose journal this is; null for the whole class group."""
  subgroupId: ID
  """The subject."""
  subject: Subject
  """Term 1-4, 0 for the year."""
  term: Int!
  """Lessons in date order."""
  lessons: [JournalLesson!]!
  """Pupils by family name, given name and patronymic (those without a name, erased, last), as a paper journal lists them; in enrolment order when the caller may not read every name."""
  rows: [JournalRow!]!
  """Exemptions (осв.) of the journal's pupils in its subject and academic year; for a term, those overlapping the term."""
  exemptions: [Exemption!]!
}

"""An exemption (осв.): the pupil is exempt from the subject from firstDay to lastDay, inclusive. The reason is not given (grades keeps it)."""
type Exemption {
  """The pupil."""
  pupil: Person!
  """Subject."""
  subject: Subject
  """First day exempt."""
  firstDay: Date!
  """Last day exempt."""
  lastDay: Date!
}

"""A lesson in a diary."""
type DiaryLesson {
  """Lesson id."""
  id: ID!
  """Date."""
  date: Date!
  """Period."""
  period: Int!
  """Subject."""
  subject: Subject
  """SCHEDULED, CONDUCTED or CANCELLED."""
  status: String!
  """Topic."""
  topic: String!
  """Homework."""
  homework: String!
  """When homework is due."""
  homeworkDue: Date
}

"""A mark in a diary."""
type DiaryMark {
  """Mark id."""
  id: ID!
  """Lesson id."""
  lessonId: ID!
  """Date."""
  date: Date!
  """Subject."""
  subject: Subject
  """Term."""
  term: Int!
  """Value."""
  value: MarkValue!
  """Weight."""
  weight: Int!
  """Work type."""
  workType: String!
}

"""A pupil's weighted average in a subject and term."""
type SubjectAverage {
  """Subject."""
  subject: Subject
  """Term."""
  term: Int!
  """Two decimals; null without marks."""
  weightedAverage: String
  """Rounded to a mark (x.5 up); null without marks."""
  roundedMark: Int
}

"""A pupil's diary."""
type Diary {
  """The pupil."""
  student: Person!
  """Lessons."""
  lessons: [DiaryLesson!]!
  """Marks."""
  marks: [DiaryMark!]!
  """Absences."""
  absences: [Absence!]!
  """Averages per subject and term."""
  averages: [SubjectAverage!]!
  """The pupil's exemptions (осв.) overlapping the dates asked, in any subject."""
  exemptions: [Exemption!]!
}

"""A planned lesson of a work programme."""
type PlannedLesson {
  """Topic."""
  topic: String!
  """Hours."""
  hours: Int!
}

"""A school's work programme of a subject for a grade level."""
type WorkProgramme {
  """Composite id (see Query.workProgramme)."""
  id: ID!
  """Version."""
  version: Int!
  """How many versions exist."""
  versions: Int!
  """Approved (false while awaiting approval)."""
  approved: Boolean!
  """Subject."""
  subject: Subject
  """Grade level."""
  gradeLevel: Int!
  """Planned lessons."""
  items: [PlannedLesson!]!
}

"""Exactly one of the fields: the level and id of a dashboard."""
input DashboardScopeInput {
  """The region (its id)."""
  regionId: ID
  """A municipality."""
  municipalityId: ID
  """A school."""
  schoolId: ID
  """A class group."""
  classGroupId: ID
}

"""How asOf reads the journal."""
enum AsOfMode {
  """What was known at the end of asOf (by the entries' recorded times; daily snapshots)."""
  RECORDED
  """What is known now about lessons up to asOf (later corrections included)."""
  EFFECTIVE
}

"""Exactly one of term, year, current or from+to; academicYear defaults to the current one."""
input DashboardPeriodInput {
  """Calendar year the academic year starts in."""
  academicYear: Int
  """A term 1-4 (only within one school)."""
  term: Int
  """The whole academic year."""
  year: Boolean
  """The current period to date."""
  current: Boolean
  """First day of a date range."""
  from: Date
  """Last day of a date range."""
  to: Date
  """The day to-date figures stop at; default today."""
  asOf: Date
  """How asOf reads; absent: the current state, to-date figures stopping at asOf."""
  asOfMode: AsOfMode
  """Where pupils' period results come from; default PERIOD_MARKS for a term or year, CURRENT otherwise."""
  basis: ResultBasis
}

"""Where pupils' period results come from."""
enum ResultBasis {
  """Term and year marks teachers set."""
  PERIOD_MARKS
  """Each pupil's weighted average rounded to a mark (x.5 up), during a term."""
  CURRENT
}

"""The level of a dashboard."""
enum DashboardLevel {
  """The region."""
  REGION
  """A municipality."""
  MUNICIPALITY
  """A school."""
  SCHOOL
  """A class group."""
  CLASS_GROUP
}

"""A computed figure with its terms and definition version."""
type Figure {
  """The value; null when the denominator is 0."""
  value: Float
  """Numerator."""
  numerator: Float!
  """Denominator."""
  denominator: Float!
  """Definition version that produced it."""
  definition: String!
}

"""Counts per mark value."""
type MarkDistribution {
  """Marks 1."""
  one: Float!
  """Marks 2."""
  two: Float!
  """Marks 3."""
  three: Float!
  """Marks 4."""
  four: Float!
  """Marks 5."""
  five: Float!
  """Pass."""
  pass: Float!
  """Fail."""
  fail: Float!
  """Not attested."""
  notAttested: Float!
  """Definition version."""
  definition: String!
}

"""Missed lessons or days by reason."""
type MissedCounts {
  """All."""
  total: Float!
  """Illness."""
  illness: Float!
  """Excused."""
  excused: Float!
  """Unexcused."""
  unexcused: Float!
  """Definition version."""
  definition: String!
}

"""Figures of a scope over a period."""
type Dashboard {
  """Level of the scope."""
  level: DashboardLevel!
  """Id of the scope."""
  scopeId: ID!
  """Name of the scope."""
  name: String
  """Term 1-4, 0 for the year or a range."""
  term: Int!
  """First day covered."""
  from: Date!
  """Last day covered."""
  to: Date!
  """Pupils counted."""
  pupilCount: Figure
  """Share of pupils without fails."""
  passRate: Figure
  """Share of pupils with 4 and 5 (configured variant)."""
  qualityRate: Figure
  """Degree of learning (СОУ)."""
  degreeOfLearning: Figure
  """Average mark."""
  averageMark: Figure
  """Weighted average mark."""
  weightedAverageMark: Figure
  """Distribution of pupils' period results."""
  markDistribution: MarkDistribution
  """Attendance rate."""
  attendanceRate: Figure
  """Missed lessons."""
  missedLessons: MissedCounts
  """Missed days."""
  missedDays: MissedCounts
  """Journal fill rate."""
  journalFillRate: Figure
  """Share of entries recorded in time."""
  timeliness: Figure
  """Work programme delivery: lessons conducted on a programme item over the lessons it planned to date. For one class group and subject; null for wider scopes or without an approved programme."""
  programmeDelivery: Figure
  """Definition versions of the figures, comma-separated."""
  definitionVersion: String!
  """The day to-date figures stop at."""
  asOf: Date!
  """The next level down that the caller may see (municipalities, schools, class groups)."""
  children: [Dashboard!]!
}
`;
