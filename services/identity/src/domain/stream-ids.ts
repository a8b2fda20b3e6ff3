/** One stream per aggregate instance. */
export const streamIds = {
  municipality: (id: string) => `municipality-${id}`,
  school: (id: string) => `school-${id}`,
  person: (id: string) => `person-${id}`,
  classGroup: (id: string) => `class-group-${id}`,
  subgroup: (id: string) => `subgroup-${id}`,
  account: (id: string) => `account-${id}`,
};
