/**
 * The shape shared by Produce, Fetch and ListOffsets: a Kafka request lists topics → partitions; some
 * partitions are answered by the adapter itself (a check that depends on the Kafka request, such as the
 * leader epoch or acks), the others go to a protocol-neutral handler in one call. PartitionSplit keeps
 * track of where each forwarded partition came from and puts the handler's answers back in request
 * order.
 */
export type Decision<Req, Res> = { answer: Res } | { forward: Req };

export class PartitionSplit<Req, Res> {
  /** Answers in request order: results[topicIndex][partitionIndex]. */
  readonly results: Res[][];
  /** The handler's `topics` argument: the forwarded partitions, grouped by topic. */
  readonly forward: { topic: string; partitions: Req[] }[] = [];
  /** Any partition answered by the adapter itself. */
  readonly answeredHere: boolean;
  private readonly origins: [topicIndex: number, partitionIndex: number][][] = [];

  constructor(
    topics: readonly { name: string; partitions: readonly unknown[] }[],
    decide: (topicIndex: number, partitionIndex: number) => Decision<Req, Res>,
  ) {
    let answeredHere = false;
    this.results = topics.map(() => []);
    topics.forEach((t, ti) => {
      const partitions: Req[] = [];
      const origins: [number, number][] = [];
      for (let pi = 0; pi < t.partitions.length; pi++) {
        const decision = decide(ti, pi);
        if ('answer' in decision) {
          this.results[ti]![pi] = decision.answer;
          answeredHere = true;
        } else {
          partitions.push(decision.forward);
          origins.push([ti, pi]);
        }
      }
      if (partitions.length > 0) {
        this.forward.push({ topic: t.name, partitions });
        this.origins.push(origins);
      }
    });
    this.answeredHere = answeredHere;
  }

  /** Put the handler's answers (same order as `forward`) into `results`. */
  merge(answers: readonly { partitions: readonly Res[] }[]): void {
    answers.forEach((t, i) => {
      t.partitions.forEach((p, j) => {
        const [ti, pi] = this.origins[i]![j]!;
        this.results[ti]![pi] = p;
      });
    });
  }
}
