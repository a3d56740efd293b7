#include "sampler/layout.hpp"

#include <array>
#include <cstddef>
#include <tuple>
#include <utility>

namespace pyprofd::sampler {
namespace {

// The offset fields of one group of Layout ("thread", "code", ...), listed by hand:
// the checks below fail to compile when a field of the struct is missing here.
template <class Group>
struct OffsetField {
    std::string_view name;  // "thread.next"
    Offset Group::*member;
};

// How many members an aggregate has: the most initializers it takes, each of which
// converts to whatever the member is (declared only: it is never called).
struct AnyMember {
    template <class T>
    constexpr operator T() const;
};

template <class Aggregate, class... Members>
constexpr std::size_t member_count() {
    if constexpr (requires { Aggregate{Members{}..., AnyMember{}}; })
        return member_count<Aggregate, Members..., AnyMember>();
    else
        return sizeof...(Members);
}

// Every member of the group is listed once (other_members: those that are not offsets).
template <class Group, std::size_t N>
constexpr bool lists_every_field(const std::array<OffsetField<Group>, N>& fields, std::size_t other_members = 0) {
    for (std::size_t i = 0; i < N; ++i)
        for (std::size_t j = i + 1; j < N; ++j)
            if (fields[i].member == fields[j].member) return false;
    return member_count<Group>() == N + other_members;
}

template <class Group, std::size_t N>
void visit_group(const Group& values, const std::array<OffsetField<Group>, N>& fields,
                 const std::function<void(std::string_view, Offset)>& visit) {
    for (const auto& field : fields) visit(field.name, values.*field.member);
}

using Runtime = decltype(Layout::runtime);
constexpr std::array<OffsetField<Runtime>, 2> runtime_fields{{
    {"runtime.interpreters_head", &Runtime::interpreters_head},
    {"runtime.tstate_current", &Runtime::tstate_current},
}};
static_assert(lists_every_field(runtime_fields), "a field of Layout::runtime is not listed in runtime_fields");

using Interpreter = decltype(Layout::interpreter);
constexpr std::array<OffsetField<Interpreter>, 5> interpreter_fields{{
    {"interpreter.next", &Interpreter::next},
    {"interpreter.threads_head", &Interpreter::threads_head},
    {"interpreter.modules", &Interpreter::modules},
    {"interpreter.ceval_gil", &Interpreter::ceval_gil},
    {"interpreter.code_object_generation", &Interpreter::code_object_generation},
}};
static_assert(lists_every_field(interpreter_fields), "a field of Layout::interpreter is not listed in interpreter_fields");

using Thread = decltype(Layout::thread);
constexpr std::array<OffsetField<Thread>, 6> thread_fields{{
    {"thread.next", &Thread::next},
    {"thread.interp", &Thread::interp},
    {"thread.frame", &Thread::frame},
    {"thread.thread_id", &Thread::thread_id},
    {"thread.native_thread_id", &Thread::native_thread_id},
    {"thread.datastack_chunk", &Thread::datastack_chunk},
}};
static_assert(lists_every_field(thread_fields), "a field of Layout::thread is not listed in thread_fields");

using Cframe = decltype(Layout::cframe);
constexpr std::array<OffsetField<Cframe>, 1> cframe_fields{{
    {"cframe.current_frame", &Cframe::current_frame},
}};
static_assert(lists_every_field(cframe_fields), "a field of Layout::cframe is not listed in cframe_fields");

using FrameObject = decltype(Layout::frame_object);
constexpr std::array<OffsetField<FrameObject>, 3> frame_object_fields{{
    {"frame_object.back", &FrameObject::back},
    {"frame_object.code", &FrameObject::code},
    {"frame_object.lasti", &FrameObject::lasti},
}};
static_assert(lists_every_field(frame_object_fields), "a field of Layout::frame_object is not listed in frame_object_fields");

using InterpreterFrame = decltype(Layout::interpreter_frame);
constexpr std::array<OffsetField<InterpreterFrame>, 4> interpreter_frame_fields{{
    {"interpreter_frame.code", &InterpreterFrame::code},
    {"interpreter_frame.previous", &InterpreterFrame::previous},
    {"interpreter_frame.instr_ptr", &InterpreterFrame::instr_ptr},
    {"interpreter_frame.owner", &InterpreterFrame::owner},
}};
static_assert(lists_every_field(interpreter_frame_fields, 1), "a field of Layout::interpreter_frame is not listed in interpreter_frame_fields");

using Code = decltype(Layout::code);
constexpr std::array<OffsetField<Code>, 6> code_fields{{
    {"code.filename", &Code::filename},
    {"code.name", &Code::name},
    {"code.qualname", &Code::qualname},
    {"code.firstlineno", &Code::firstlineno},
    {"code.linetable", &Code::linetable},
    {"code.code_adaptive", &Code::code_adaptive},
}};
static_assert(lists_every_field(code_fields), "a field of Layout::code is not listed in code_fields");

using GilState = decltype(Layout::gil_state);
constexpr std::array<OffsetField<GilState>, 2> gil_state_fields{{
    {"gil_state.locked", &GilState::locked},
    {"gil_state.last_holder", &GilState::last_holder},
}};
static_assert(lists_every_field(gil_state_fields), "a field of Layout::gil_state is not listed in gil_state_fields");

using Object = decltype(Layout::object);
constexpr std::array<OffsetField<Object>, 1> object_fields{{
    {"object.ob_type", &Object::ob_type},
}};
static_assert(lists_every_field(object_fields), "a field of Layout::object is not listed in object_fields");

using Type = decltype(Layout::type);
constexpr std::array<OffsetField<Type>, 5> type_fields{{
    {"type.tp_name", &Type::tp_name},
    {"type.tp_basicsize", &Type::tp_basicsize},
    {"type.tp_flags", &Type::tp_flags},
    {"type.tp_dictoffset", &Type::tp_dictoffset},
    {"type.ht_cached_keys", &Type::ht_cached_keys},
}};
static_assert(lists_every_field(type_fields), "a field of Layout::type is not listed in type_fields");

using Bytes = decltype(Layout::bytes);
constexpr std::array<OffsetField<Bytes>, 2> bytes_fields{{
    {"bytes.ob_size", &Bytes::ob_size},
    {"bytes.data", &Bytes::data},
}};
static_assert(lists_every_field(bytes_fields), "a field of Layout::bytes is not listed in bytes_fields");

using Unicode = decltype(Layout::unicode);
constexpr std::array<OffsetField<Unicode>, 4> unicode_fields{{
    {"unicode.length", &Unicode::length},
    {"unicode.state", &Unicode::state},
    {"unicode.ascii_data", &Unicode::ascii_data},
    {"unicode.compact_data", &Unicode::compact_data},
}};
static_assert(lists_every_field(unicode_fields), "a field of Layout::unicode is not listed in unicode_fields");

using Dict = decltype(Layout::dict);
constexpr std::array<OffsetField<Dict>, 5> dict_fields{{
    {"dict.used", &Dict::used},
    {"dict.keys", &Dict::keys},
    {"dict.values", &Dict::values},
    {"dict.mask", &Dict::mask},
    {"dict.table", &Dict::table},
}};
static_assert(lists_every_field(dict_fields), "a field of Layout::dict is not listed in dict_fields");

using DictKeys = decltype(Layout::dict_keys);
constexpr std::array<OffsetField<DictKeys>, 5> dict_keys_fields{{
    {"dict_keys.size", &DictKeys::size},
    {"dict_keys.log2_index_bytes", &DictKeys::log2_index_bytes},
    {"dict_keys.kind", &DictKeys::kind},
    {"dict_keys.nentries", &DictKeys::nentries},
    {"dict_keys.indices", &DictKeys::indices},
}};
static_assert(lists_every_field(dict_keys_fields), "a field of Layout::dict_keys is not listed in dict_keys_fields");

using DictValues = decltype(Layout::dict_values);
constexpr std::array<OffsetField<DictValues>, 1> dict_values_fields{{
    {"dict_values.values", &DictValues::values},
}};
static_assert(lists_every_field(dict_values_fields), "a field of Layout::dict_values is not listed in dict_values_fields");

using Module = decltype(Layout::module);
constexpr std::array<OffsetField<Module>, 1> module_fields{{
    {"module.md_dict", &Module::md_dict},
}};
static_assert(lists_every_field(module_fields), "a field of Layout::module is not listed in module_fields");

using Integer = decltype(Layout::integer);
constexpr std::array<OffsetField<Integer>, 2> integer_fields{{
    {"integer.size", &Integer::size},
    {"integer.digits", &Integer::digits},
}};
static_assert(lists_every_field(integer_fields), "a field of Layout::integer is not listed in integer_fields");

// The groups, each once.
template <class Group, std::size_t N>
struct OffsetGroup {
    Group Layout::*member;
    const std::array<OffsetField<Group>, N>& fields;
};
template <class Group, std::size_t N>  // for compilers without aggregate deduction (clang 14, the fuzzers')
OffsetGroup(Group Layout::*, const std::array<OffsetField<Group>, N>&) -> OffsetGroup<Group, N>;

constexpr std::tuple offset_groups{
    OffsetGroup{&Layout::runtime, runtime_fields},
    OffsetGroup{&Layout::interpreter, interpreter_fields},
    OffsetGroup{&Layout::thread, thread_fields},
    OffsetGroup{&Layout::cframe, cframe_fields},
    OffsetGroup{&Layout::frame_object, frame_object_fields},
    OffsetGroup{&Layout::interpreter_frame, interpreter_frame_fields},
    OffsetGroup{&Layout::code, code_fields},
    OffsetGroup{&Layout::gil_state, gil_state_fields},
    OffsetGroup{&Layout::object, object_fields},
    OffsetGroup{&Layout::type, type_fields},
    OffsetGroup{&Layout::bytes, bytes_fields},
    OffsetGroup{&Layout::unicode, unicode_fields},
    OffsetGroup{&Layout::dict, dict_fields},
    OffsetGroup{&Layout::dict_keys, dict_keys_fields},
    OffsetGroup{&Layout::dict_values, dict_values_fields},
    OffsetGroup{&Layout::module, module_fields},
    OffsetGroup{&Layout::integer, integer_fields},
};

// Layout's members that are not offset groups: the version, the models (enums),
// free_threaded and thread_name_attribute. A member added to Layout is either one more of these or
// a group to list above.
constexpr std::size_t layout_members_not_offsets = 14;
static_assert(member_count<Layout>() == layout_members_not_offsets + std::tuple_size_v<decltype(offset_groups)>,
              "Layout has a member that is neither counted in layout_members_not_offsets nor listed in offset_groups");

}  // namespace

void Layout::for_each_offset(const std::function<void(std::string_view, Offset)>& visit) const {
    std::apply([&](const auto&... group) { (visit_group(this->*group.member, group.fields, visit), ...); }, offset_groups);
}

}  // namespace pyprofd::sampler
