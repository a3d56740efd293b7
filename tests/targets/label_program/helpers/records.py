# The label program's own module in a subdirectory: a plain function, a method (a
# bare name on 2.7, qualified from 3.11) and a name-mangled private method.


def make_records(count):
    return [{"id": n, "name": "row-%d" % n, "score": (n * 7919) % 1000} for n in range(count)]


class RecordBuilder(object):
    def build(self, count):
        return [self.__checksum(record) for record in make_records(count)]

    def __checksum(self, record):
        total = 0
        for character in record["name"]:
            total = (total * 31 + ord(character)) % 65521
        record["checksum"] = total
        return record
